//! The HTTP transport of the client: connections of its own, kept alive and reused (HTTP/1.1,
//! [`h1`](super::h1)), or one multiplexed connection (h2c, on hyper's client connection).
//!
//! A small pool of our own rather than hyper-util's general one: the client talks to one
//! origin, so there is no pool key, no per-request URI work and no idle timer; an HTTP/1.1
//! connection goes back to the pool once its answer is read.

use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use tokio::net::TcpStream;

use super::error::Error;
use super::h1::{Conn, Sent};
use super::io::Io;

/// A request's body over h2c: the bytes `write_request` wrote, sent as they are.
#[cfg(feature = "http2")]
type Body = http_body_util::Full<std::io::Cursor<Vec<u8>>>;

/// The shared h2c connection, made at the first call.
#[cfg(feature = "http2")]
type H2 = tokio::sync::Mutex<Option<hyper::client::conn::http2::SendRequest<Body>>>;

/// The most idle HTTP/1.1 connections kept for reuse.
const MAX_IDLE: usize = 64;

/// Posts request bodies to one URL.
pub(super) struct Transport {
    /// `host:port`, to connect to.
    addr: String,
    /// For an `https://` URL: the handshake over each connection.
    #[cfg(feature = "tls")]
    tls: Option<super::tls::Tls>,
    /// The path and headers of every request over h2c.
    #[cfg(feature = "http2")]
    path: PathAndQuery,
    /// `Host`, `Content-Type`, and the caller's.
    #[cfg(feature = "http2")]
    headers: HeaderMap,
    /// An HTTP/1.1 request's head up to its `Content-Length` value: the request line and the
    /// headers, written once.
    head: Box<[u8]>,
    max_response_size: usize,
    /// Idle HTTP/1.1 connections, the most recently used last.
    idle: Mutex<Vec<Conn>>,
    #[cfg(feature = "http2")]
    h2: Option<H2>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("addr", &self.addr)
            // Not the head: it holds the caller's headers, a bearer token among them.
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(super) fn new(
        url: &str,
        mut headers: HeaderMap,
        max_response_size: usize,
        http2: bool,
        #[cfg(feature = "tls")] tls: &super::tls::Settings,
    ) -> Result<Self, Error> {
        let uri: Uri = url
            .parse()
            .map_err(|err| Error::transport(format!("not a URL: {url}: {err}")))?;
        let secure = match uri.scheme_str() {
            Some("http") => false,
            #[cfg(feature = "tls")]
            Some("https") => true,
            #[cfg(not(feature = "tls"))]
            Some("https") => {
                return Err(Error::transport(format!(
                    "an https:// URL needs rpc-hyper's `tls` feature: {url}"
                )))
            }
            _ => {
                return Err(Error::transport(format!(
                    "not an http:// or https:// URL: {url} (a WebSocket is ws://)"
                )))
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| Error::transport(format!("no host in {url}")))?;
        let port = authority
            .port_u16()
            .unwrap_or(if secure { 443 } else { 80 });
        let addr = format!("{}:{port}", authority.host());
        // Over TLS, h2 is asked for by ALPN (with `http2_prior_knowledge`), not assumed.
        #[cfg(feature = "tls")]
        let tls = secure
            .then(|| {
                let alpn: &[u8] = if http2 { b"h2" } else { b"http/1.1" };
                super::tls::Tls::new(tls, authority.host(), alpn)
            })
            .transpose()?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|err| Error::transport(format!("not a host: {err}")))?;
        headers.insert(HOST, host);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let path = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        #[cfg(not(feature = "http2"))]
        let _ = http2;
        let mut head = format!("POST {path} HTTP/1.1\r\n").into_bytes();
        for (name, value) in &headers {
            if name != CONTENT_LENGTH {
                head.extend_from_slice(name.as_str().as_bytes());
                head.extend_from_slice(b": ");
                head.extend_from_slice(value.as_bytes());
                head.extend_from_slice(b"\r\n");
            }
        }
        head.extend_from_slice(b"content-length: ");
        Ok(Self {
            addr,
            #[cfg(feature = "tls")]
            tls,
            #[cfg(feature = "http2")]
            path,
            #[cfg(feature = "http2")]
            headers,
            head: head.into_boxed_slice(),
            max_response_size,
            idle: Mutex::new(Vec::new()),
            #[cfg(feature = "http2")]
            h2: http2.then(|| tokio::sync::Mutex::new(None)),
        })
    }

    /// Posts `body`; the answer's status and bytes, read up to the size limit.
    pub(super) async fn post(&self, body: Vec<u8>) -> Result<(StatusCode, Bytes), Error> {
        #[cfg(feature = "http2")]
        if let Some(h2) = &self.h2 {
            return self.post_h2(h2, body).await;
        }
        // A kept connection the server had closed takes nothing: then, and only then, the
        // request goes again, on a fresh connection.
        loop {
            let (mut conn, reused) = match self.take_idle() {
                Some(conn) => (conn, true),
                None => (self.connect().await?, false),
            };
            let sent = match conn.send(&self.head, &body).await {
                Ok(Sent::Nothing) if reused => continue,
                Ok(Sent::Nothing) => return Err(Error::transport("the connection closed at once")),
                Ok(sent) => sent,
                // A server may answer before it has read the whole request (a 413 for a body
                // over its limit) and close: that answer, when it came, is the one to give.
                Err(err) => {
                    return match conn.receive(self.max_response_size).await {
                        Ok(answer) => Ok((answer.status, answer.body)),
                        Err(_) => Err(Error::transport(err)),
                    }
                }
            };
            let answer = conn.receive(self.max_response_size).await?;
            if answer.reusable && sent == Sent::All {
                self.keep(conn);
            }
            return Ok((answer.status, answer.body));
        }
    }

    #[cfg(feature = "http2")]
    fn request(&self, body: Vec<u8>) -> http::Request<Body> {
        // The body goes as it was written: no copy, no conversion.
        let mut request = http::Request::new(http_body_util::Full::new(std::io::Cursor::new(body)));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = Uri::from(self.path.clone());
        *request.headers_mut() = self.headers.clone();
        request
    }

    #[cfg(feature = "http2")]
    async fn read(
        &self,
        response: http::Response<hyper::body::Incoming>,
    ) -> Result<(StatusCode, Bytes), Error> {
        use http_body_util::BodyExt;
        let status = response.status();
        let mut body = response.into_body();
        // An answer in one frame is kept as it came; one in many is gathered, up to the limit.
        let mut first: Option<Bytes> = None;
        let mut gathered: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(Error::transport)?.into_data() else {
                continue; // trailers
            };
            let len = first.as_ref().map_or(0, Bytes::len) + gathered.len() + data.len();
            if len > self.max_response_size {
                return Err(Error::new(super::error::Kind::TooLarge(
                    self.max_response_size,
                )));
            }
            match first.take() {
                None if gathered.is_empty() => first = Some(data),
                None => gathered.extend_from_slice(&data),
                Some(earlier) => {
                    gathered.extend_from_slice(&earlier);
                    gathered.extend_from_slice(&data);
                }
            }
        }
        Ok((status, first.unwrap_or_else(|| Bytes::from(gathered))))
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(mut conn) = idle.pop() {
            if !conn.is_closed() {
                return Some(conn);
            }
        }
        None
    }

    fn keep(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    async fn stream(&self) -> Result<Io, Error> {
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(Error::transport)?;
        stream.set_nodelay(true).map_err(Error::transport)?;
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.connect(stream).await;
        }
        Ok(Io::Plain(stream))
    }

    /// A new HTTP/1.1 connection.
    async fn connect(&self) -> Result<Conn, Error> {
        Ok(Conn::new(self.stream().await?))
    }

    #[cfg(feature = "http2")]
    async fn post_h2(&self, h2: &H2, body: Vec<u8>) -> Result<(StatusCode, Bytes), Error> {
        let mut sender = {
            let mut shared = h2.lock().await;
            match shared.as_ref().filter(|sender| !sender.is_closed()) {
                Some(sender) => sender.clone(),
                None => {
                    let (sender, connection) = hyper::client::conn::http2::handshake(
                        hyper_util::rt::TokioExecutor::new(),
                        hyper_util::rt::TokioIo::new(self.stream().await?),
                    )
                    .await
                    .map_err(Error::transport)?;
                    tokio::spawn(async move {
                        if let Err(err) = connection.await {
                            tracing::debug!(error = %err, "a client connection ended");
                        }
                    });
                    *shared = Some(sender.clone());
                    sender
                }
            }
        };
        sender.ready().await.map_err(Error::transport)?;
        let response = sender
            .send_request(self.request(body))
            .await
            .map_err(Error::transport)?;
        self.read(response).await
    }
}
