//! A TLS connection's handshake, for every listener that serves TLS: within its time limit,
//! with the server's current configuration, and a connection that does not speak TLS closed
//! in an orderly way (a plaintext HTTP request answered `400` in words) and logged once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::{ClientCertificate, ServerTls};
use crate::wire::close_gently;

/// What a TLS record of the handshake starts with (RFC 8446, section 5.1).
const HANDSHAKE_RECORD: u8 = 0x16;

/// The answer to a plaintext HTTP request on the TLS port.
const PLAINTEXT_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 38\r\nConnection: close\r\n\r\nThis port speaks TLS: call https://.\r\n";

/// One server's TLS: the shared configuration, with the server's own ALPN protocols set on a
/// copy made once per configuration (not per connection).
pub(crate) struct Acceptor {
    tls: ServerTls,
    alpn: &'static [&'static [u8]],
    /// Whether the connections speak HTTP inside TLS (a plaintext request is answered in
    /// HTTP's terms), or a stream framing (it is closed without a word).
    http: bool,
    made: Mutex<Option<(u64, TlsAcceptor)>>,
}

impl Acceptor {
    /// Accepts HTTP with `tls`, offering `alpn` (in order of preference) when its
    /// configuration names no protocols of its own.
    pub(crate) fn http(tls: ServerTls, alpn: &'static [&'static [u8]]) -> Self {
        Self {
            tls,
            alpn,
            http: true,
            made: Mutex::new(None),
        }
    }

    /// Accepts the stream transport's connections with `tls`: no ALPN, no HTTP.
    #[cfg(feature = "tcp")]
    pub(crate) fn stream(tls: ServerTls) -> Self {
        Self {
            tls,
            alpn: &[],
            http: false,
            made: Mutex::new(None),
        }
    }

    /// How long a handshake may take.
    pub(crate) fn timeout(&self) -> Duration {
        self.tls.handshake_timeout
    }

    /// The acceptor for the configuration current now.
    fn current(&self) -> TlsAcceptor {
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = self.tls.shared.generation.load(Ordering::Acquire);
        if let Some((seen, acceptor)) = made.as_ref() {
            if *seen == generation {
                return acceptor.clone();
            }
        }
        let (generation, config) = self.tls.current();
        let config = if config.alpn_protocols.is_empty() && !self.alpn.is_empty() {
            let mut config = rustls::ServerConfig::clone(&config);
            config.alpn_protocols = self.alpn.iter().map(|p| p.to_vec()).collect();
            Arc::new(config)
        } else {
            config
        };
        let acceptor = TlsAcceptor::from(config);
        *made = Some((generation, acceptor.clone()));
        acceptor
    }
}

/// How often a connection that is not TLS is logged at `warn`: at most once a minute.
const WARN_EVERY_MS: u64 = 60_000;

/// The warnings of connections that are not TLS, rate-limited.
pub(super) struct NotTls {
    since: std::time::Instant,
    /// When the last warning was logged (ms since `since`, plus one; 0: never).
    warned_at: AtomicU64,
    /// How many were logged at debug since.
    quiet: AtomicU64,
}

impl NotTls {
    pub(super) fn new() -> Self {
        Self {
            since: std::time::Instant::now(),
            warned_at: AtomicU64::new(0),
            quiet: AtomicU64::new(0),
        }
    }

    /// One more such connection: `Some(how many went unwarned before it)` when it is to be
    /// logged at `warn`.
    fn seen(&self) -> Option<u64> {
        let elapsed = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let now = elapsed.saturating_add(1);
        let last = self.warned_at.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= WARN_EVERY_MS;
        if due
            && self
                .warned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.quiet.swap(0, Ordering::Relaxed));
        }
        self.quiet.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// A connection's handshake, within the acceptor's time limit: the TLS stream, and the
/// client's verified certificate if it sent one; `None` (logged) when it failed, timed out,
/// or the client did not speak TLS.
pub(crate) async fn handshake(
    acceptor: &Acceptor,
    tcp: TcpStream,
    peer: SocketAddr,
) -> Option<(TlsStream<TcpStream>, Option<ClientCertificate>)> {
    let timeout = acceptor.timeout();
    match tokio::time::timeout(timeout, shake(acceptor, tcp, peer)).await {
        Ok(done) => done,
        Err(_) => {
            tracing::debug!(%peer, ?timeout, "a TLS handshake timed out");
            None
        }
    }
}

async fn shake(
    acceptor: &Acceptor,
    tcp: TcpStream,
    peer: SocketAddr,
) -> Option<(TlsStream<TcpStream>, Option<ClientCertificate>)> {
    // A look at the first byte, left in the socket: is it TLS at all?
    let mut first = [0];
    match tcp.peek(&mut first).await {
        Ok(0) => return None,
        Ok(_) if first[0] == HANDSHAKE_RECORD => {}
        Ok(_) => {
            not_tls(acceptor, tcp, peer, first[0]).await;
            return None;
        }
        Err(err) => {
            tracing::debug!(%peer, error = %err, "a TLS connection failed");
            return None;
        }
    }
    match acceptor.current().accept(tcp).await {
        Ok(tls) => {
            let client = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(ClientCertificate::new);
            Some((tls, client))
        }
        Err(err) => {
            tracing::debug!(%peer, error = %err, "a TLS handshake failed");
            None
        }
    }
}

/// A connection that opened with something else than a TLS record: on an HTTP port, a
/// plaintext request (its first byte a method's letter) is answered `400` in words; then the
/// socket is closed in an orderly way. Logged at `warn` at most once a minute (with how many
/// were seen since), else at `debug`: a client that keeps doing it cannot fill the log.
async fn not_tls(acceptor: &Acceptor, mut tcp: TcpStream, peer: SocketAddr, first: u8) {
    let http = acceptor.http && first.is_ascii_uppercase();
    let what = if http {
        "plaintext HTTP"
    } else {
        "bytes that are not TLS"
    };
    match acceptor.tls.shared.not_tls.seen() {
        Some(since) => tracing::warn!(
            %peer,
            "{what} on the TLS port; closed (warned of at most once a minute; {since} more \
             since the last warning, each logged at debug)"
        ),
        None => tracing::debug!(%peer, "{what} on the TLS port; closed"),
    }
    let answer = if http { PLAINTEXT_ANSWER } else { &[] };
    if let Err(err) = close_gently(&mut tcp, answer).await {
        tracing::debug!(%peer, error = %err, "closing a connection that is not TLS failed");
    }
}
