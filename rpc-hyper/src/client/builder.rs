//! Building a client: its settings, each with a documented default.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use ::http::{HeaderMap, HeaderName, HeaderValue};

use super::error::Error;
use super::{http, Client, Shared, Transport, DEFAULT_CLIENT_TIMEOUT, DEFAULT_MAX_RESPONSE_SIZE};
#[cfg(feature = "ws")]
use super::{ws, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RECONNECTS};

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    url: String,
    timeout: Option<Duration>,
    max_response_size: usize,
    headers: HeaderMap,
    http2: bool,
    #[cfg(feature = "ws")]
    max_in_flight: usize,
    #[cfg(feature = "ws")]
    max_reconnects: u32,
    #[cfg(feature = "ws")]
    router: Option<Arc<dyn ws::Serving>>,
    #[cfg(feature = "ws")]
    dialect: Option<rpc_core::Dialect>,
    #[cfg(feature = "tls")]
    tls: super::tls::Settings,
    error: Option<Error>,
}

impl Client {
    /// A client of the server at `url` (`http://host:port/path`).
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder {
            url: url.to_owned(),
            timeout: Some(DEFAULT_CLIENT_TIMEOUT),
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            headers: HeaderMap::new(),
            http2: false,
            #[cfg(feature = "ws")]
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            #[cfg(feature = "ws")]
            max_reconnects: DEFAULT_MAX_RECONNECTS,
            #[cfg(feature = "ws")]
            router: None,
            #[cfg(feature = "ws")]
            dialect: None,
            #[cfg(feature = "tls")]
            tls: super::tls::Settings::default(),
            error: None,
        }
    }
}

impl ClientBuilder {
    /// Over a WebSocket, answers the server's own requests and notifications with `router`'s
    /// methods (the same `#[rpc_method]` functions a server registers), as a server answers
    /// its clients: on the connection engine, at most
    /// [`DEFAULT_MAX_CALLS_IN_FLIGHT`](crate::DEFAULT_MAX_CALLS_IN_FLIGHT) calls at once,
    /// notifications in the order they came, and batches. A method may take the connection's
    /// [`Peer`](rpc_core::Peer) to call the server back; its requests share the client's ids.
    /// Each of the server's messages may take
    /// [`DEFAULT_REQUEST_TIMEOUT`](crate::DEFAULT_REQUEST_TIMEOUT); past it, its calls are
    /// answered with error [`TIMEOUT_ERROR_CODE`](crate::TIMEOUT_ERROR_CODE).
    /// Without a router, every request of the server's is answered -32601 "Method not found",
    /// never left unanswered, and its notifications are dropped. (Over HTTP the server has no
    /// way to call back.)
    #[cfg(feature = "ws")]
    #[must_use]
    pub fn router<S: Send + Sync + 'static>(
        mut self,
        router: impl Into<Arc<rpc_core::Router<S>>>,
    ) -> Self {
        self.router = Some(router.into());
        self
    }

    /// Trusts `certificate` (DER) as a root beside the compiled-in ones, for an `https://`
    /// server whose certificate a private CA signed (the `tls` feature). A certificate that
    /// does not parse is the error of [`ClientBuilder::build`].
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn add_root_certificate(mut self, certificate: impl Into<Vec<u8>>) -> Self {
        self.tls
            .roots
            .push(rustls::pki_types::CertificateDer::from(certificate.into()));
        self
    }

    /// Trusts every certificate of `pem` (PEM text: a CA's file, one or more
    /// `-----BEGIN CERTIFICATE-----` sections) as a root, as
    /// [`ClientBuilder::add_root_certificate`] does (the `tls` feature). PEM that holds no
    /// certificate, or one that does not decode, is the error of [`ClientBuilder::build`].
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Self {
        use rustls::pki_types::pem::PemObject;
        let mut found = 0;
        for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
            match certificate {
                Ok(certificate) => {
                    self.tls.roots.push(certificate);
                    found += 1;
                }
                Err(err) => {
                    self.error
                        .get_or_insert(Error::new(super::error::Kind::Tls(format!(
                            "a root certificate's PEM: {err}"
                        ))));
                }
            }
        }
        if found == 0 {
            self.error.get_or_insert(Error::new(super::error::Kind::Tls(
                "no certificate in the root certificates' PEM".to_owned(),
            )));
        }
        self
    }

    /// Presents a client certificate to a server that asks for one (mutual TLS; the `tls`
    /// feature): `chain` in DER, the client's own certificate first, then any intermediates,
    /// and its private key in PKCS#8 DER. A key that does not match is the error of
    /// [`ClientBuilder::build`].
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn client_certificate(mut self, chain: Vec<Vec<u8>>, key: Vec<u8>) -> Self {
        let chain = chain
            .into_iter()
            .map(rustls::pki_types::CertificateDer::from)
            .collect();
        self.tls.identity = Some((chain, key));
        self
    }

    /// Uses `config` for `https://` (the `tls` feature), as it is but for its ALPN: its roots,
    /// a client certificate, its own crypto provider (a build that links aws-lc-rs already
    /// needs no ring). The compiled-in roots and [`ClientBuilder::add_root_certificate`] then
    /// do not apply.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.tls.config = Some(config);
        self
    }

    /// Over a WebSocket, speaks `dialect`'s cancellation and progress on the serving side (no
    /// dialect by default): the server may cancel what it asked the client's router, the
    /// methods may report progress, and a request of their peer handle given up on is
    /// cancelled.
    #[cfg(feature = "ws")]
    #[must_use]
    pub fn dialect(mut self, dialect: rpc_core::Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// Sets the time limit of each call ([`DEFAULT_CLIENT_TIMEOUT`] by default; `None`: none).
    #[must_use]
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Sets the largest answer taken ([`DEFAULT_MAX_RESPONSE_SIZE`] by default). Over HTTP, a
    /// larger one fails the call ([`Error::is_too_large`]) without being read whole. Over a
    /// WebSocket the answer's id lies in the part left unread, and a frame cannot be skipped
    /// without reading it: a larger message ends the connection, every call waiting on it
    /// fails ([`Error::is_closed`]) saying "a message over max_response_size (N bytes) ended
    /// the connection", and the client connects again for the next calls.
    #[must_use]
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// Adds a header sent with every request, such as `authorization: Bearer …` (over a
    /// WebSocket, with the upgrade request).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => {
                self.error = Some(Error::protocol(format!("not a valid header: {name}")));
            }
        }
        self
    }

    /// Speaks HTTP/2 over cleartext with prior knowledge (h2c) instead of HTTP/1.1: one
    /// connection carries every call at once.
    #[cfg(feature = "http2")]
    #[must_use]
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Sets how many calls one WebSocket connection carries at once
    /// ([`DEFAULT_MAX_IN_FLIGHT`] by default); more wait for a slot.
    #[cfg(feature = "ws")]
    #[must_use]
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls.max(1);
        self
    }

    /// Sets how many failed attempts in a row the WebSocket client makes to reconnect before
    /// it gives up ([`DEFAULT_MAX_RECONNECTS`] by default); calls then fail
    /// ([`Error::is_closed`]).
    #[cfg(feature = "ws")]
    #[must_use]
    pub fn max_reconnects(mut self, attempts: u32) -> Self {
        self.max_reconnects = attempts;
        self
    }

    /// The client. Over HTTP nothing is connected yet: the first call connects. A `ws://`
    /// URL (the `ws` feature) starts connecting at once, on a task of the current tokio
    /// runtime; calls made meanwhile wait for the connection.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let next_id = Arc::new(AtomicU64::new(1));
        let transport = if self.url.starts_with("ws://") || self.url.starts_with("wss://") {
            #[cfg(feature = "ws")]
            {
                Transport::Ws(ws::Transport::start(ws::Settings {
                    url: self.url,
                    headers: self.headers,
                    max_response_size: self.max_response_size,
                    max_in_flight: self.max_in_flight,
                    max_reconnects: self.max_reconnects,
                    router: self.router,
                    dialect: self.dialect,
                    ids: Arc::clone(&next_id),
                    #[cfg(feature = "tls")]
                    tls: self.tls.clone(),
                }))
            }
            #[cfg(not(feature = "ws"))]
            return Err(Error::transport(
                "a ws:// URL needs rpc-hyper's `ws` feature",
            ));
        } else {
            Transport::Http(http::Transport::new(
                &self.url,
                self.headers,
                self.max_response_size,
                self.http2,
                #[cfg(feature = "tls")]
                &self.tls,
            )?)
        };
        Ok(Client {
            shared: Arc::new(Shared { transport, next_id }),
            timeout: self.timeout,
        })
    }
}
