//! Sending: a message's text, the time limit over each step of a request, and the cancel a
//! request given up on sends.

use std::future::{poll_fn, Future};
use std::task::Poll;
use std::time::Duration;

use serde::Serialize;

use super::{Peer, PeerError};
use crate::boxed::BoxFuture;
use crate::Dialect;

/// `step`, unless the time limit (and its timer) passes first.
pub(super) async fn within<T>(
    deadline: &mut Option<(Duration, BoxFuture<'static, ()>)>,
    step: impl Future<Output = Result<T, PeerError>>,
) -> Result<T, PeerError> {
    let Some((limit, sleep)) = deadline else {
        return step.await;
    };
    let mut step = std::pin::pin!(step);
    poll_fn(|task| {
        if let Poll::Ready(outcome) = step.as_mut().poll(task) {
            return Poll::Ready(outcome);
        }
        sleep
            .as_mut()
            .poll(task)
            .map(|()| Err(PeerError::TimedOut(*limit)))
    })
    .await
}

/// Sends the cancel notification of a request given up on, when dropped armed.
pub(super) struct Forgotten<'p> {
    pub(super) peer: &'p Peer,
    pub(super) id: u64,
    pub(super) armed: bool,
}

impl Drop for Forgotten<'_> {
    fn drop(&mut self) {
        let Some(dialect) = self.peer.0.settings.dialect.filter(|_| self.armed) else {
            return;
        };
        let params = match dialect {
            Dialect::Lsp => serde_json::json!({ "id": self.id }),
            _ => {
                serde_json::json!({ "requestId": self.id, "reason": "the request was given up on" })
            }
        };
        // Without room now, it is not sent: the answer, when it comes, is dropped all the same.
        if let Ok(message) = encode(dialect.cancel_method(), &params, None) {
            let _ = self.peer.0.outbox.try_send_message(message);
        }
    }
}

/// A message's JSON text; with `Some(_)`, a request whose id is set later ([`set_id`]).
pub(super) fn encode<P: Serialize + ?Sized>(
    method: &str,
    params: &P,
    id: Option<u64>,
) -> Result<Vec<u8>, PeerError> {
    let mut message = Vec::with_capacity(64 + method.len());
    crate::response::write_request(&mut message, method, params, id)
        .map_err(|err| PeerError::Encode(err.to_string()))?;
    Ok(message)
}

/// Replaces the id `0` that ends a request's text with `id`.
pub(super) fn set_id(message: &mut Vec<u8>, id: u64) {
    // `…,"id":0}`: the last two bytes.
    message.truncate(message.len().saturating_sub(2));
    message.extend_from_slice(id.to_string().as_bytes());
    message.push(b'}');
}
