//! The outbox's whole messages: what the connection's [`Peer`](crate::Peer) sends (requests,
//! notifications, progress), or a transport's own, queued beside the subscriptions' items.

use std::task::{Context as TaskContext, Poll};

use super::super::note::Note;
use super::super::SendError;
use super::Outbox;

impl Outbox {
    /// Queues `message`, a whole request or notification as JSON text (what the
    /// connection's [`Peer`](crate::Peer) sends, or a transport's own), once there is room
    /// (taking it out of the option). Until then the message stays in place and `task` is
    /// woken when there is room. A message over the message limit is refused, and so is
    /// any once the outbox is closed; a refused message is left in place too.
    pub fn poll_send(
        &self,
        message: &mut Option<Vec<u8>>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Result<(), SendError>> {
        let Some(text) = message.take() else {
            return Poll::Ready(Ok(()));
        };
        match self.push_message(text, Some(task)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err((err, text)) => {
                *message = Some(text);
                if err.is_full() {
                    Poll::Pending
                } else {
                    Poll::Ready(Err(err))
                }
            }
        }
    }

    /// Queues a message, as [`Outbox::poll_send`] does, if there is room now.
    pub fn try_send_message(&self, message: Vec<u8>) -> Result<(), SendError> {
        self.push_message(message, None).map_err(|(err, _)| err)
    }

    fn push_message(
        &self,
        message: Vec<u8>,
        task: Option<&mut TaskContext<'_>>,
    ) -> Result<(), (SendError, Vec<u8>)> {
        let len = message.len();
        if len > self.0.limits.max_message_len {
            return Err((
                SendError::too_large_item(len, self.0.limits.max_message_len),
                message,
            ));
        }
        let mut inner = self.lock();
        if inner.closed {
            return Err((SendError::closed(), message));
        }
        if !self.room(&mut inner, len, 1, task) {
            return Err((SendError::full(), message));
        }
        let note = Note::message(message);
        Self::enqueue(inner, note);
        Ok(())
    }
}
