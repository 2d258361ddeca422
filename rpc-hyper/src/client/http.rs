//! The HTTP transport of the client: connections of its own, kept alive and reused (HTTP/1.1),
//! or one multiplexed connection (h2c), on hyper's client connections.
//!
//! A small pool of our own rather than hyper-util's general one: the client talks to one
//! origin, so there is no pool key, no per-request URI work and no idle timer; an HTTP/1.1
//! connection goes back to the pool once its answer is read.

use std::io::Cursor;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::error::{Error, Kind};

/// A request's body: the bytes `write_request` wrote, sent as they are.
type Body = Full<Cursor<Vec<u8>>>;

/// The shared h2c connection, made at the first call.
#[cfg(feature = "http2")]
type H2 = tokio::sync::Mutex<Option<hyper::client::conn::http2::SendRequest<Body>>>;

/// The most idle HTTP/1.1 connections kept for reuse.
const MAX_IDLE: usize = 64;

/// Posts request bodies to one URL.
pub(super) struct Transport {
    /// `host:port`, to connect to.
    addr: String,
    path: PathAndQuery,
    /// The headers of every request: `Host`, `Content-Type`, and the caller's.
    headers: HeaderMap,
    max_response_size: usize,
    /// Idle HTTP/1.1 connections, the most recently used last.
    idle: Mutex<Vec<http1::SendRequest<Body>>>,
    #[cfg(feature = "http2")]
    h2: Option<H2>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("addr", &self.addr)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(super) fn new(
        url: &str,
        mut headers: HeaderMap,
        max_response_size: usize,
        http2: bool,
    ) -> Result<Self, Error> {
        let uri: Uri = url
            .parse()
            .map_err(|err| Error::transport(format!("not a URL: {url}: {err}")))?;
        if uri.scheme_str() != Some("http") {
            return Err(Error::transport(format!(
                "not an http:// URL: {url} (TLS is not this client's; a WebSocket is ws://)"
            )));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| Error::transport(format!("no host in {url}")))?;
        let addr = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
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
        Ok(Self {
            addr,
            path,
            headers,
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
        let mut request = self.request(body);
        // A kept connection the server closed meanwhile gives the request back unsent: then,
        // and only then, it goes again on a fresh connection.
        loop {
            let (mut sender, reused) = match self.take_idle() {
                Some(sender) => (sender, true),
                None => (self.connect().await?, false),
            };
            if sender.ready().await.is_err() {
                if reused {
                    continue;
                }
                return Err(Error::transport("the connection closed at once"));
            }
            let response = match sender.try_send_request(request).await {
                Ok(response) => response,
                Err(mut err) => match err.take_message() {
                    Some(unsent) if reused => {
                        request = unsent;
                        continue;
                    }
                    _ => return Err(Error::transport(err.into_error())),
                },
            };
            let answer = self.read(response).await;
            if answer.is_ok() {
                self.keep(sender);
            }
            return answer;
        }
    }

    fn request(&self, body: Vec<u8>) -> Request<Body> {
        // The body goes as it was written: no copy, no conversion.
        let mut request = Request::new(Full::new(Cursor::new(body)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from(self.path.clone());
        *request.headers_mut() = self.headers.clone();
        request
    }

    async fn read(
        &self,
        response: http::Response<hyper::body::Incoming>,
    ) -> Result<(StatusCode, Bytes), Error> {
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
                return Err(Error::new(Kind::TooLarge(self.max_response_size)));
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

    fn take_idle(&self) -> Option<http1::SendRequest<Body>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn keep(&self, sender: http1::SendRequest<Body>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE && !sender.is_closed() {
            idle.push(sender);
        }
    }

    async fn stream(&self) -> Result<TokioIo<TcpStream>, Error> {
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(Error::transport)?;
        stream.set_nodelay(true).map_err(Error::transport)?;
        Ok(TokioIo::new(stream))
    }

    /// A new HTTP/1.1 connection, its task spawned.
    async fn connect(&self) -> Result<http1::SendRequest<Body>, Error> {
        let (sender, connection) = http1::handshake(self.stream().await?)
            .await
            .map_err(Error::transport)?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "a client connection ended");
            }
        });
        Ok(sender)
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
                        self.stream().await?,
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
