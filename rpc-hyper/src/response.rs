//! The body every HTTP answer of the server has, and the plain-text answers (refusals and
//! errors before any JSON-RPC is read). A leaf: the HTTP endpoint and the WebSocket handshake
//! both answer with them.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use http_body_util::Full;

/// The body of every response [`RpcService`](crate::RpcService) sends.
pub type ResponseBody = Full<Bytes>;

/// A plain-text answer: `text`, with `status`.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
