//! Reading answers, the time limit, and each call's tracing: what every transport of the
//! client shares.

use std::time::{Duration, Instant};

use ::http::StatusCode;
use rpc_core::Response;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::error::{Error, Kind};

/// The result of the answer to call `id`, decoded as `R` straight from the answer's bytes.
pub(super) fn decode_answer<R: DeserializeOwned>(
    status: StatusCode,
    body: &[u8],
    id: u64,
) -> Result<R, Error> {
    let raw = single_answer(status, body, id)?;
    serde_json::from_str(raw.get()).map_err(|err| Error::new(Kind::Decode(err.to_string())))
}

/// The result of the answer to call `id`, as JSON text borrowed from the answer, or why there
/// is none.
pub(super) fn single_answer(status: StatusCode, body: &[u8], id: u64) -> Result<&RawValue, Error> {
    if !status.is_success() {
        return Err(status_error(status, body));
    }
    if body.is_empty() {
        return Err(Error::protocol("an empty answer to a call"));
    }
    let response: Response<'_> =
        serde_json::from_slice(body).map_err(|err| Error::protocol(err.to_string()))?;
    let answered = response.id.as_u64();
    match response.outcome {
        // An error for no id: the server could not read the request at all.
        Err(error) if answered == Some(id) || response.id.is_null() => Err(Error::new(Kind::Rpc {
            error,
            status: None,
        })),
        _ if answered != Some(id) => Err(Error::protocol(format!(
            "an answer for id {}, not {id}",
            response.id
        ))),
        Err(error) => Err(Error::new(Kind::Rpc {
            error,
            status: None,
        })),
        Ok(result) => Ok(result),
    }
}

/// What a notification's answer means: nothing is due, but an error object is an error.
pub(super) fn nothing_due(status: StatusCode, body: &[u8]) -> Result<(), Error> {
    if !status.is_success() {
        return Err(status_error(status, body));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match serde_json::from_slice::<Response<'_>>(body) {
        Ok(Response {
            outcome: Err(error),
            ..
        }) => Err(Error::new(Kind::Rpc {
            error,
            status: None,
        })),
        _ => Err(Error::protocol("an answer to a notification")),
    }
}

/// A non-2xx answer: the JSON-RPC error object in its body, kept, or the status alone.
pub(super) fn status_error(status: StatusCode, body: &[u8]) -> Error {
    if let Ok(Response {
        outcome: Err(error),
        ..
    }) = serde_json::from_slice::<Response<'_>>(body)
    {
        return Error::new(Kind::Rpc {
            error,
            status: Some(status),
        });
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
    Error::new(Kind::Status { status, body: text })
}

/// Runs `work` within `limit`: `None` past it. The work is pinned where it is made and
/// polled beside a timer, not moved into a wrapper: the exchange's future is large, and each
/// move of it is a copy.
pub(super) async fn within<F: std::future::Future>(
    limit: Option<Duration>,
    work: F,
) -> Option<F::Output> {
    use std::future::Future as _;
    let mut work = std::pin::pin!(work);
    let Some(limit) = limit else {
        return Some(work.await);
    };
    let mut timer = std::pin::pin!(tokio::time::sleep(limit));
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(output) = work.as_mut().poll(cx) {
            return std::task::Poll::Ready(Some(output));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// One call's tracing, made only when a subscriber listens at debug level.
pub(super) struct Trace(Option<(tracing::Span, Instant)>);

impl Trace {
    pub(super) fn begin(method: &str, id: Option<u64>) -> Self {
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return Self(None);
        }
        let span = tracing::debug_span!(
            "rpc_client_call",
            method,
            id,
            micros = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        Self(Some((span, Instant::now())))
    }

    pub(super) fn end<T>(self, outcome: &Result<T, Error>) {
        let Some((span, started)) = self.0 else {
            return;
        };
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        span.record("micros", micros);
        match outcome {
            Ok(_) => {
                span.record("outcome", "ok");
            }
            Err(err) => {
                span.record("outcome", tracing::field::display(err));
            }
        }
        span.in_scope(|| tracing::debug!(micros, ok = outcome.is_ok(), "call"));
    }
}
