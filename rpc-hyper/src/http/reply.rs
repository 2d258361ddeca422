//! The responses the endpoint gives, and the checks of a request head.

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::Full;

use crate::local::Connection;
pub(crate) use crate::response::plain;
use crate::response::ResponseBody;

/// The response to a body: its answer as JSON, or `204 No Content` when none is due.
pub(super) fn json_response(answer: Option<Vec<u8>>) -> Response<ResponseBody> {
    match answer {
        Some(json) => {
            let mut response = Response::new(Full::new(Bytes::from(json)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        None => {
            let mut response = Response::new(Full::default());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
    }
}

/// The answer to a load balancer's health check: `200 OK` while the server serves, `503
/// Service Unavailable` (and `Connection: close`) once its shutdown has begun, so that the
/// balancer stops sending before the server stops accepting (see
/// [`Serve::shutdown_delay`](crate::Serve::shutdown_delay)). Off a connection of
/// [`serve`](crate::serve), always `200`.
///
/// An endpoint served by [`serve`](crate::serve) answers it at `/health` itself
/// ([`RpcService::health_path`](crate::RpcService::health_path)); a service of your own can
/// answer it anywhere, an axum handler at its own route say, by returning this. It reads the
/// server's state from the connection's task, so over HTTP/2 (whose requests run on tasks of
/// their own) or behind a `tower::Buffer` it answers `200` throughout: call it from a
/// service's `call`, or serve the check over HTTP/1.
pub fn health_response() -> Response<ResponseBody> {
    let mut response = if Connection::server_stopping() {
        let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
        response
            .headers_mut()
            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        response
    } else {
        plain(StatusCode::OK, "ok\n")
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The span of one request; disabled (and free) unless a subscriber wants debug spans.
pub(super) fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "rpc_request",
        http.method = %request.method(),
        http.path = request.uri().path(),
    )
}

/// `application/json` or `application/json-rpc`, any parameters (such as `charset`).
/// Compared as bytes: a content type is ASCII, and no UTF-8 check is needed to find its essence.
pub(super) fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = content_type(headers) else {
        return false;
    };
    let value = value.as_bytes();
    // What nearly every client sends, told at once.
    if value == b"application/json" {
        return true;
    }
    let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    let essence = value[..end].trim_ascii();
    essence.eq_ignore_ascii_case(b"application/json")
        || essence.eq_ignore_ascii_case(b"application/json-rpc")
}

/// The first `Content-Type` value. Among the few headers most requests have, a look at each
/// name costs less than hashing one to find it (a standard name compares as a number).
fn content_type(headers: &HeaderMap) -> Option<&HeaderValue> {
    if headers.keys_len() > 8 {
        return headers.get(CONTENT_TYPE);
    }
    headers
        .iter()
        .find_map(|(name, value)| (name == CONTENT_TYPE).then_some(value))
}

/// Why a request is answered before its body is read: refused, or the health check.
#[derive(Clone, Copy, Debug)]
pub(super) enum Refusal {
    HealthCheck,
    NotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    TooLarge,
    BodyTimeout,
}

impl Refusal {
    pub(super) fn response(self) -> Response<ResponseBody> {
        match self {
            Refusal::HealthCheck => health_response(),
            Refusal::NotFound => plain(StatusCode::NOT_FOUND, "Not Found"),
            Refusal::MethodNotAllowed => {
                let mut response = plain(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Method Not Allowed: use POST",
                );
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
                response
            }
            Refusal::UnsupportedMediaType => plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type: send Content-Type: application/json",
            ),
            Refusal::TooLarge => plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large"),
            Refusal::BodyTimeout => {
                let mut response = plain(
                    StatusCode::REQUEST_TIMEOUT,
                    "Request Timeout: the body was too slow",
                );
                // The rest of the body may still come: the connection cannot be reused.
                response
                    .headers_mut()
                    .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_matched_on_their_essence() {
        let accepts = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
            is_json(&headers)
        };
        for yes in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=utf-8",
            "application/json-rpc",
        ] {
            assert!(accepts(yes), "{yes:?} was refused");
        }
        for no in [
            "text/plain",
            "application/jsonx",
            "application/json-rpc2",
            "json",
            "",
        ] {
            assert!(!accepts(no), "{no:?} was accepted");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn the_content_type_is_found_among_few_headers_and_many() {
        for others in [0, 3, 8, 9, 40] {
            for (first, expected) in [("application/json", true), ("text/plain", false)] {
                let mut headers = HeaderMap::new();
                for n in 0..others {
                    let name = http::HeaderName::try_from(format!("x-extra-{n}")).unwrap();
                    headers.insert(name, HeaderValue::from_static("1"));
                }
                // The first value counts, as with `HeaderMap::get`.
                headers.append(CONTENT_TYPE, HeaderValue::from_static(first));
                headers.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                headers.insert(http::header::HOST, HeaderValue::from_static("h"));
                assert_eq!(is_json(&headers), expected, "{others} others, {first}");
            }
        }
    }
}
