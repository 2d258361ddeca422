//! A subscription as the client sees it: a stream of typed items.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::error::{Error, Kind};
use super::ws::{closed, End, Ending};
use super::Client;

/// The items of a subscription ([`Client::subscribe`]), decoded as `T`, as a `Stream` (or with
/// [`Subscription::next`]).
///
/// - Dropping it unsubscribes.
/// - A lost connection ends it with one error item ([`Error::is_closed`]).
/// - An application that does not take its items (1,024 waiting) ends it with an error item
///   ([`Error::is_protocol`]): it fell behind, and the client does not buffer without bound.
/// - An item that does not decode as `T` is an error item ([`Error::is_decode`]); the
///   subscription goes on.
///
/// The de-facto protocol has no notice for a subscription the server ended: such a
/// subscription simply sends nothing more. A server of this library's that declares an end
/// notice (`rpc_core::Method::end_notice`) says so, and why: the stream then ends (after a
/// last error item, [`Error::is_closed`], unless the reason is `"completed"`), and
/// [`Subscription::end_reason`] tells the reason.
pub struct Subscription<T> {
    client: Client,
    /// The id's JSON text, as the server gave it.
    id: Box<str>,
    unsubscribe: String,
    items: mpsc::Receiver<Box<RawValue>>,
    ending: Arc<Ending>,
    done: bool,
    item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Subscription<T> {
    pub(super) fn new(
        client: Client,
        id: Box<str>,
        unsubscribe: String,
        items: mpsc::Receiver<Box<RawValue>>,
        ending: Arc<Ending>,
    ) -> Self {
        Self {
            client,
            id,
            unsubscribe,
            items,
            ending,
            done: false,
            item: PhantomData,
        }
    }

    /// The subscription's id, as JSON text (`"0x…"`, or a number from some servers).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Why the server ended the subscription, once it has said so with an end notice:
    /// `"completed"`, `"failed"` or `"shutting down"`.
    pub fn end_reason(&self) -> Option<&str> {
        match self.ending.why() {
            Some(End::Ended { reason, .. }) => Some(reason),
            _ => None,
        }
    }

    /// The next item, or `None` once it has ended.
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<T: DeserializeOwned> Stream for Subscription<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.items.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(raw)) => Poll::Ready(Some(
                serde_json::from_str(raw.get())
                    .map_err(|err| Error::new(Kind::Decode(err.to_string()))),
            )),
            // The route ended: the items before its end were all taken; now its reason.
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(self.ending.why().and_then(|why| {
                    Some(Err(match why {
                        End::Lost(why) => closed(why),
                        End::FellBehind => Error::protocol(
                            "the subscription fell behind: 1,024 items were not taken",
                        ),
                        End::Ended { reason, .. } if reason == "completed" => return None,
                        End::Ended { reason, message } => closed(&match message {
                            Some(message) => {
                                format!("the server ended the subscription: {reason}: {message}")
                            }
                            None => format!("the server ended the subscription: {reason}"),
                        }),
                    }))
                }))
            }
        }
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        let Some(ws) = self.client.ws() else { return };
        // Unsubscribed without waiting: its answer is dropped when it comes.
        let id = self.client.next_id();
        let frame = format!(
            r#"{{"jsonrpc":"2.0","method":{},"params":[{}],"id":{id}}}"#,
            serde_json::to_string(&self.unsubscribe).unwrap_or_default(),
            self.id
        );
        ws.unsubscribe(&self.id, &self.ending, frame.into_bytes());
    }
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
