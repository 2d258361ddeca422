//! The driver task: keeps the connection (connecting again with backoff after a loss), each
//! one a session on the connection engine.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::session::{session, Socket};
use super::{closed, lock, Command, End, Settings, Shared, IO_TIMEOUT};
use crate::client::io::Io;
use crate::engine::{self, Liveness};
use tokio::net::TcpStream;

/// The first wait before reconnecting; it doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A connection that lasted less than this before it was lost counts as a failed attempt:
/// a server that accepts and closes at once is not hammered.
const SHORT_LIVED: Duration = Duration::from_secs(1);

/// Keeps a connection: connects (again, with backoff, after a loss), writes what callers
/// send, routes what comes. Ends when every handle to the client is gone, or after
/// `max_reconnects` failed attempts in a row.
pub(super) async fn drive(
    settings: Settings,
    mut commands: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
) {
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .max_message_size(Some(settings.max_response_size))
        .max_frame_size(Some(settings.max_response_size));
    // The server's requests are served as a server serves its clients' (a quiet connection is
    // the server's to close), and the client's own calls are bounded by its in-flight bound.
    let mut engine = engine::Config::new(Liveness::Forever);
    engine.max_message_size = settings.max_response_size;
    engine.dialect = settings.dialect;
    engine.peer = engine.peer.dialect(settings.dialect);
    // A command a closing connection took but could not send: the next one sends it.
    let mut carried = None;
    let mut failures = 0u32;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if commands.is_closed() {
            return; // every handle to the client is gone
        }
        let connected = tokio::time::timeout(IO_TIMEOUT, connect(&settings, config))
            .await
            .unwrap_or_else(|_| Err("timed out".to_owned()));
        let lost = match connected {
            Ok(ws) => {
                shared.connected.send_modify(|count| *count += 1);
                let since = std::time::Instant::now();
                let lost = session(ws, &mut commands, &mut carried, &shared, &engine).await;
                let Some(lost) = lost else {
                    return; // every handle to the client is gone
                };
                if since.elapsed() >= SHORT_LIVED {
                    failures = 0;
                    backoff = FIRST_BACKOFF;
                }
                lost
            }
            Err(err) => format!("could not connect: {err}"),
        };
        failures += 1;
        tracing::debug!(why = %lost, failures, "the client's WebSocket is down");
        if failures > settings.max_reconnects {
            // No more calls are taken, then every waiting one fails: none is left waiting.
            commands.close();
            fail_all(&shared, &format!("gave up reconnecting: {lost}"));
            return;
        }
        fail_all(&shared, &lost);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Connects and upgrades: TCP, a TLS handshake for `wss://`, then the WebSocket's own.
async fn connect(settings: &Settings, config: WebSocketConfig) -> Result<Socket, String> {
    let request = upgrade_request(settings)?;
    let uri = request.uri();
    let secure = uri.scheme_str() == Some("wss");
    let host = uri.host().ok_or("no host in the URL")?.to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let ip_or_name = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = TcpStream::connect((ip_or_name, port))
        .await
        .map_err(|err| err.to_string())?;
    tcp.set_nodelay(true).map_err(|err| err.to_string())?;
    let io = if secure {
        #[cfg(feature = "tls")]
        {
            let tls = super::super::tls::Tls::new(&settings.tls, &host, b"http/1.1")
                .map_err(|err| err.to_string())?;
            tls.connect(tcp).await.map_err(|err| err.to_string())?
        }
        #[cfg(not(feature = "tls"))]
        return Err("a wss:// URL needs rpc-hyper's `tls` feature".to_owned());
    } else {
        Io::Plain(tcp)
    };
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, io, Some(config))
        .await
        .map_err(|err| err.to_string())?;
    Ok(ws)
}

/// The upgrade request, with the client's headers.
fn upgrade_request(settings: &Settings) -> Result<http::Request<()>, String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = settings
        .url
        .as_str()
        .into_client_request()
        .map_err(|err| err.to_string())?;
    for (name, value) in &settings.headers {
        if name != http::header::CONTENT_TYPE {
            request.headers_mut().append(name, value.clone());
        }
    }
    Ok(request)
}

/// Fails every call in flight and ends every subscription with an error item.
fn fail_all(shared: &Shared, why: &str) {
    let pending = std::mem::take(&mut *lock(&shared.pending));
    for (_, waiter) in pending {
        let _ = waiter.answered.send((Err(closed(why)), None));
    }
    let subscriptions = std::mem::take(&mut *lock(&shared.subscriptions));
    for (_, route) in subscriptions {
        route.end(End::Lost(why.to_owned()));
    }
}
