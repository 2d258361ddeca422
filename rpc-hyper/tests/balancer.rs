//! Behind a load balancer: the health check, the shutdown delay that lets the balancer see
//! it, the client's address from trusted proxies' headers, and a keep-alive timeout above the
//! balancers'.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rpc_core::{rpc_method, Ext, Router};
use rpc_hyper::{ClientAddr, RpcService, TrustedProxies, DEFAULT_KEEP_ALIVE_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STEP: Duration = Duration::from_secs(5);

/// The client's address as the server tells it, or `"none"`.
#[rpc_method]
fn client(addr: Option<Ext<'_, ClientAddr>>) -> String {
    addr.map_or_else(|| "none".to_owned(), |addr| addr.0.to_string())
}

fn router() -> Router {
    let mut router = Router::new();
    router.register(client::method()).unwrap();
    router
}

/// One request on a connection of its own: the status code, the head and the body.
async fn exchange(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let run = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    let answer = tokio::time::timeout(STEP, run).await.unwrap().unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
}

fn call(extra_headers: &str) -> String {
    let body = r#"{"jsonrpc":"2.0","method":"client","id":1}"#;
    format!(
        "POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
}

async fn answered_client(addr: SocketAddr, extra_headers: &str) -> String {
    let (status, _, body) = exchange(addr, &call(extra_headers)).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    answer["result"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn serve_answers_its_health_check_at_health_and_a_mounted_endpoint_only_when_asked() {
    let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(rpc_hyper::serve(listener, router()).into_future());
    let (status, head, body) = exchange(addr, &get("/health")).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(head.contains("cache-control: no-store"), "{head}");
    let head_only = "HEAD /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    assert_eq!(exchange(addr, head_only).await.0, 200);
    // Calls go on as before beside it.
    assert_eq!(answered_client(addr, "").await, "none");

    // Turned off, or moved.
    let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let off = listener.local_addr().unwrap();
    let service = RpcService::new(router()).no_health_check();
    tokio::spawn(rpc_hyper::serve(listener, service).into_future());
    assert_eq!(exchange(off, &get("/health")).await.0, 404);
    let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let moved = listener.local_addr().unwrap();
    let service = RpcService::new(router()).health_path("/healthz");
    tokio::spawn(rpc_hyper::serve(listener, service).into_future());
    assert_eq!(exchange(moved, &get("/health")).await.0, 404);
    assert_eq!(exchange(moved, &get("/healthz")).await.0, 200);

    // Mounted in a service of one's own (every path reaches it), it has none unless given one.
    let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mounted = listener.local_addr().unwrap();
    let service = RpcService::new(router());
    tokio::spawn(rpc_hyper::serve_service(listener, service).into_future());
    assert_eq!(exchange(mounted, &get("/health")).await.0, 405);
}

#[tokio::test]
async fn on_shutdown_the_health_check_fails_while_serving_goes_on_for_the_delay() {
    let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let delay = Duration::from_millis(800);
    let server = tokio::spawn(
        rpc_hyper::serve(listener, router())
            .shutdown_delay(delay)
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .into_future(),
    );
    assert_eq!(exchange(addr, &get("/health")).await.0, 200);
    let asked = Instant::now();
    stop.send(()).unwrap();
    // The balancer's next probes see 503 at once; new connections and calls are still served.
    let (status, head, body) = loop {
        let answer = exchange(addr, &get("/health")).await;
        if answer.0 != 200 || asked.elapsed() > STEP {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!((status, body.as_str()), (503, "shutting down\n"));
    assert!(head.contains("connection: close"), "{head}");
    assert!(asked.elapsed() < delay, "the 503 came only after the delay");
    assert_eq!(answered_client(addr, "").await, "none");
    // Past the delay, it drains and ends: no new connection is taken.
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        asked.elapsed() >= delay,
        "the server ended before its delay"
    );
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn the_client_address_comes_from_trusted_proxies_headers_only() {
    let start = |proxies: Option<TrustedProxies>| {
        let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let serve = rpc_hyper::serve(listener, router());
        let serve = match proxies {
            Some(proxies) => serve.trusted_proxies(proxies),
            None => serve,
        };
        tokio::spawn(serve.into_future());
        addr
    };
    let forwarded = "X-Forwarded-For: 198.51.100.4, 203.0.113.9\r\n";

    // Never by default: the header is not believed, and no address is set.
    let default = start(None);
    assert_eq!(answered_client(default, forwarded).await, "none");

    // From a trusted proxy (this test, on loopback): the nearest hop it names.
    let trusting = start(Some(TrustedProxies::new(["127.0.0.0/8", "::1"]).unwrap()));
    assert_eq!(answered_client(trusting, forwarded).await, "203.0.113.9");
    // `Forwarded` is read only from proxies said to write it.
    let rfc7239 = "Forwarded: for=\"[2001:db8::7]:4711\";proto=https\r\n";
    assert_eq!(answered_client(trusting, rfc7239).await, "127.0.0.1");
    let writing_rfc7239 = TrustedProxies::new(["127.0.0.0/8"])
        .unwrap()
        .forwarded_header();
    let trusting_rfc7239 = start(Some(writing_rfc7239));
    assert_eq!(
        answered_client(trusting_rfc7239, rfc7239).await,
        "2001:db8::7"
    );
    assert_eq!(answered_client(trusting, "").await, "127.0.0.1");

    // From a peer that is no proxy of ours: the peer, whatever it claims.
    let elsewhere = start(Some(TrustedProxies::new(["10.0.0.0/8"]).unwrap()));
    assert_eq!(answered_client(elsewhere, forwarded).await, "127.0.0.1");
}

#[test]
fn the_keep_alive_timeout_outlasts_the_common_balancers_idle_timeout() {
    // AWS's load balancers and nginx's upstream connections idle out at 60 s: the server's
    // must be longer, so that it is never the server that closes a connection the balancer
    // is about to reuse.
    assert!(DEFAULT_KEEP_ALIVE_TIMEOUT > Duration::from_secs(60));
    assert!(DEFAULT_KEEP_ALIVE_TIMEOUT < Duration::from_secs(600));
}
