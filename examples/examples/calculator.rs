//! The tutorial's calculator over JSON-RPC: `add`, `subtract`, `multiply` and `divide`.
//!
//! `cargo run --example calculator` listens on 127.0.0.1:5000; `--addr HOST:PORT` changes it.
//! `--ipc PATH` and `--tcp ADDR` serve the same methods on a Unix socket and on raw TCP beside
//! it; `--stdio` serves them on stdin and stdout alone, until stdin closes. `--tls-cert FILE
//! --tls-key FILE` serves HTTPS (and wss, and TLS on `--tcp`) instead of cleartext; SIGHUP reads
//! the files again. Ctrl-C or SIGTERM stops it gracefully.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use rpc_examples::calculator;
use rpc_hyper::stream::{self, Framing};
use rpc_hyper::tls::ServerTls;
use tokio::sync::watch;

const USAGE: &str = "\
The calculator: JSON-RPC 2.0 over HTTP (POST /rpc) and WebSocket (ws://.../rpc), with add,
subtract, multiply, divide and wait; over a WebSocket, a Unix socket, TCP or stdio,
subscribe_countdown and subscribe_results.

Usage: calculator [--addr HOST:PORT] [--ipc PATH] [--tcp HOST:PORT] [OPTIONS]
       calculator --stdio [--framing newline|content-length]

Options:
  --addr HOST:PORT       where HTTP listens (default 127.0.0.1:5000; port 0 picks a free one)
  --ipc PATH             serve on a Unix socket at PATH too (mode 0600; removed on exit)
  --tcp HOST:PORT        serve JSON-RPC on raw TCP too (no HTTP)
  --stdio                serve on stdin and stdout only, until stdin closes; nothing else is
                         written to stdout (messages go to stderr)
  --framing FRAMING      how stream messages are delimited: newline (stdio's default),
                         content-length (LSP), concatenated (Ethereum's IPC), or auto
                         (--ipc's and --tcp's default: concatenated, or newline for a
                         client that writes lines)
  --max-connections N    connections served at once, per listener; more wait in the backlog
                         (default 4096)
  --tls-cert FILE        serve TLS (https://, wss://, and on --tcp) with the certificate chain
                         in FILE (PEM); needs --tls-key. SIGHUP reads both files again
  --tls-key FILE         the certificate's private key (PEM)
  --tls-client-ca FILE   require a client certificate signed by a CA in FILE (PEM): mutual TLS
  --redis URL            feed subscribe_results through the Redis at URL (redis://host:port/):
                         every calculator on it sees the results computed on any (needs the
                         `redis` feature: cargo run --example calculator --features redis)
  --allow-origin ORIGIN  let browser pages from ORIGIN (such as http://localhost:8000) open a
                         WebSocket; repeatable. Clients that send no Origin are always let in
  -h, --help             print this help
";

/// What the command line asks for.
struct Options {
    addr: String,
    max_connections: usize,
    origins: Vec<String>,
    ipc: Option<String>,
    tcp: Option<String>,
    stdio: bool,
    framing: Option<Framing>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    tls_client_ca: Option<String>,
    redis: Option<String>,
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => return usage_error(&message),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return failure(&format!("cannot start the runtime: {err}")),
    };
    // One router for every transport: a calculation over one is seen by the watchers of all
    // (with --redis, by the watchers of every calculator on that Redis).
    let calc = {
        let _runtime = runtime.enter();
        match calc(options.redis.as_deref()) {
            Ok(calc) => calc,
            Err(message) => return failure(&message),
        }
    };
    let router = Arc::new(calculator::router_with(calc));
    let code = if options.stdio {
        runtime.block_on(serve_stdio(router, options.framing))
    } else {
        runtime.block_on(serve_sockets(router, options))
    };
    // A read of stdin that waits cannot be stopped: the runtime does not wait for it.
    runtime.shutdown_background();
    code
}

/// Reads the arguments; `None` for `--help`.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        addr: calculator::DEFAULT_ADDR.to_owned(),
        max_connections: rpc_hyper::DEFAULT_MAX_CONNECTIONS,
        origins: Vec::new(),
        ipc: None,
        tcp: None,
        stdio: false,
        framing: None,
        tls_cert: None,
        tls_key: None,
        tls_client_ca: None,
        redis: None,
    };
    while let Some(arg) = args.next() {
        // `--name=value` is `--name value`.
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = |example: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value, such as {example}"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => options.addr = value("127.0.0.1:5000")?,
            "--allow-origin" => options.origins.push(value("http://localhost:8000")?),
            "--max-connections" => {
                options.max_connections = value("4096")?
                    .parse()
                    .map_err(|_| "--max-connections needs a number, such as 4096".to_owned())?;
            }
            "--ipc" => options.ipc = Some(value("/tmp/calculator.ipc")?),
            "--tcp" => options.tcp = Some(value("127.0.0.1:5001")?),
            "--stdio" => options.stdio = true,
            "--tls-cert" => options.tls_cert = Some(value("cert.pem")?),
            "--tls-key" => options.tls_key = Some(value("key.pem")?),
            "--tls-client-ca" => options.tls_client_ca = Some(value("clients-ca.pem")?),
            "--redis" => options.redis = Some(value("redis://127.0.0.1:6379/")?),
            "--framing" => {
                options.framing = Some(match value("newline")?.as_str() {
                    "newline" => Framing::Newline,
                    "content-length" => Framing::ContentLength,
                    "concatenated" => Framing::Concatenated,
                    "auto" => Framing::Auto,
                    other => {
                        return Err(format!(
                        "`{other}` is not a framing: newline, content-length, concatenated or auto"
                    ))
                    }
                });
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if options.stdio && (options.ipc.is_some() || options.tcp.is_some()) {
        return Err("--stdio serves stdin and stdout alone: leave out --ipc and --tcp".into());
    }
    if options.tls_cert.is_some() != options.tls_key.is_some() {
        return Err("TLS needs both --tls-cert and --tls-key".into());
    }
    if options.tls_client_ca.is_some() && options.tls_cert.is_none() {
        return Err("--tls-client-ca needs --tls-cert and --tls-key".into());
    }
    Ok(Some(options))
}

/// Serves stdin and stdout until stdin closes (or Ctrl-C, SIGTERM).
async fn serve_stdio(
    router: Arc<rpc_core::Router<calculator::Calc>>,
    framing: Option<Framing>,
) -> ExitCode {
    let signal = shutdown_signal();
    eprintln!("calculator serving JSON-RPC on stdin and stdout");
    // A language client cancels a request with `$/cancelRequest`: `wait` is answered -32800.
    let server = stream::stdio(router)
        .framing(framing.unwrap_or(Framing::Newline))
        .dialect(rpc_core::Dialect::Lsp)
        .with_graceful_shutdown(signal);
    match server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => failure(&format!("stdio error: {err}")),
    }
}

/// Serves HTTP, and a Unix socket and raw TCP when asked, until Ctrl-C or SIGTERM.
async fn serve_sockets(
    router: Arc<rpc_core::Router<calculator::Calc>>,
    options: Options,
) -> ExitCode {
    let addr: SocketAddr = match options.addr.parse() {
        Ok(addr) => addr,
        Err(_) => {
            return usage_error(&format!(
                "`{}` is not HOST:PORT, such as 127.0.0.1:5000",
                options.addr
            ))
        }
    };
    let tls = match server_tls(&options) {
        Ok(tls) => tls,
        Err(err) => return failure(&format!("cannot serve TLS: {err}")),
    };
    let (http_scheme, ws_scheme) = if tls.is_some() {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    let shutdown = shutdown_signal();
    // One signal stops every server.
    let (stop, stopped) = watch::channel(false);
    let signal = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let mut servers = tokio::task::JoinSet::new();

    let listener = match rpc_hyper::bind(addr) {
        Ok(listener) => listener,
        Err(err) => return failure(&format!("cannot listen on {addr}: {err}")),
    };
    let bound = listener.local_addr().unwrap_or(addr);
    let app = calculator::app_for(Arc::clone(&router), &options.origins);
    let mut http = rpc_hyper::serve_service(listener, app).max_connections(options.max_connections);
    if let Some(tls) = &tls {
        http = http.tls(tls.clone());
    }
    let http = http.with_graceful_shutdown(signal());
    servers.spawn(named("http", http.into_future()));
    let mut listening = vec![format!(
        "{http_scheme}://{bound} (JSON-RPC: POST {http_scheme}://{bound}/rpc, or a WebSocket at \
         {ws_scheme}://{bound}/rpc)"
    )];

    if let Some(path) = &options.ipc {
        let listener = match stream::IpcListener::bind(path) {
            Ok(listener) => listener,
            Err(err) => return failure(&format!("cannot listen on {path}: {err}")),
        };
        let ipc = stream::serve_ipc(listener, Arc::clone(&router))
            .framing(options.framing.unwrap_or(Framing::Auto))
            .max_connections(options.max_connections)
            .with_graceful_shutdown(signal());
        servers.spawn(named("ipc", ipc.into_future()));
        listening.push(format!("a Unix socket at {path}"));
    }
    if let Some(tcp) = &options.tcp {
        let listener = match tokio::net::TcpListener::bind(tcp.as_str()).await {
            Ok(listener) => listener,
            Err(err) => return failure(&format!("cannot listen on {tcp}: {err}")),
        };
        let bound = listener
            .local_addr()
            .map_or_else(|_| tcp.clone(), |a| a.to_string());
        let mut server = stream::serve_tcp(listener, Arc::clone(&router))
            .framing(options.framing.unwrap_or(Framing::Auto))
            .max_connections(options.max_connections);
        if let Some(tls) = &tls {
            server = server.tls(tls.clone());
        }
        let server = server.with_graceful_shutdown(signal());
        servers.spawn(named("tcp", server.into_future()));
        let over = if tls.is_some() { "TLS" } else { "raw TCP" };
        listening.push(format!("{over} at {bound}"));
    }
    say(&format!("calculator listening on {}", listening.join("; ")));

    shutdown.await;
    let _ = stop.send(true);
    let mut code = ExitCode::SUCCESS;
    while let Some(ended) = servers.join_next().await {
        if let Ok((name, Err(err))) = ended {
            eprintln!("error: {name} server: {err}");
            code = ExitCode::FAILURE;
        }
    }
    say("calculator stopped");
    code
}

/// The TLS the options ask for, if any; reloaded from its files on SIGHUP.
fn server_tls(options: &Options) -> std::io::Result<Option<ServerTls>> {
    let (Some(cert), Some(key)) = (&options.tls_cert, &options.tls_key) else {
        return Ok(None);
    };
    let mut tls = ServerTls::from_pem_files(cert, key)?;
    if let Some(ca) = &options.tls_client_ca {
        let roots = std::fs::read(ca)
            .map_err(|err| std::io::Error::new(err.kind(), format!("{ca}: {err}")))?;
        tls = tls.require_client_certificates(&roots)?;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = signal(SignalKind::hangup())?;
        let rotate = tls.clone();
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match rotate.reload() {
                    Ok(()) => say("reloaded the TLS certificate"),
                    Err(err) => eprintln!("error: kept the TLS certificate in use: {err}"),
                }
            }
        });
    }
    Ok(Some(tls))
}

/// A server's outcome with its name.
async fn named(
    name: &'static str,
    server: impl Future<Output = std::io::Result<()>>,
) -> (&'static str, std::io::Result<()>) {
    (name, server.await)
}

/// Listens for Ctrl-C, and SIGTERM where there is one, from the call on; the future completes
/// on the first. Call it before printing that the calculator is serving: a signal sent as soon
/// as that line is read must not find the default handler still in place.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        async fn recv(signal: std::io::Result<tokio::signal::unix::Signal>) {
            match signal {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        }
        let interrupt = recv(signal(SignalKind::interrupt()));
        let terminate = recv(signal(SignalKind::terminate()));
        async move {
            tokio::select! {
                () = interrupt => {}
                () = terminate => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            tokio::signal::ctrl_c().await.ok();
        }
    }
}

/// Prints a line on stdout; a stdout nobody reads any more (a closed pipe) is no reason to
/// fail, as `println!` would.
fn say(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

/// The calculator's shared state: its results fed locally, or through the Redis at `url`.
fn calc(url: Option<&str>) -> Result<calculator::Calc, String> {
    match url {
        None => Ok(calculator::Calc::default()),
        #[cfg(feature = "redis")]
        Some(url) => {
            let calc =
                calculator::Calc::with_redis(url).map_err(|err| format!("--redis {url}: {err}"))?;
            eprintln!("results fed through Redis at {url}");
            Ok(calc)
        }
        #[cfg(not(feature = "redis"))]
        Some(_) => Err("--redis needs the `redis` feature: \
            cargo run --example calculator --features redis -- --redis URL"
            .to_owned()),
    }
}

fn failure(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
