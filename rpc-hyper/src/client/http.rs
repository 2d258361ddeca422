//! The HTTP transport of the client: hyper's pooled client, HTTP/1.1 or h2c.

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::error::{Error, Kind};

/// Posts request bodies to one URL.
#[derive(Debug)]
pub(super) struct Transport {
    client: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
    uri: Uri,
    headers: HeaderMap,
    max_response_size: usize,
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
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        #[cfg_attr(not(feature = "http2"), allow(unused_mut))]
        let mut builder = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
        #[cfg(feature = "http2")]
        builder.http2_only(http2);
        #[cfg(not(feature = "http2"))]
        let _ = http2;
        Ok(Self {
            client: builder.build(connector),
            uri,
            headers,
            max_response_size,
        })
    }

    /// Posts `body`; the answer's status and bytes, read up to the size limit.
    pub(super) async fn post(&self, body: Vec<u8>) -> Result<(StatusCode, Bytes), Error> {
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        let response = self
            .client
            .request(request)
            .await
            .map_err(Error::transport)?;
        let status = response.status();
        let body = Limited::new(response.into_body(), self.max_response_size)
            .collect()
            .await
            .map_err(|err| {
                if err.is::<LengthLimitError>() {
                    Error::new(Kind::TooLarge(self.max_response_size))
                } else {
                    Error::transport(err)
                }
            })?;
        Ok((status, body.to_bytes()))
    }
}
