//! Batches: many calls in one request, each answered (or failed) on its own.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use rpc_core::{ErrorObject, Response, TypedCall};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;

use super::error::{Error, Kind};
use super::Client;

/// Calls and notifications to send in one request ([`Client::batch`]).
pub struct Batch<'c> {
    client: &'c Client,
    body: Vec<u8>,
    /// The calls' ids, ascending: over a WebSocket, they tell the batch's answer.
    ids: Vec<u64>,
}

/// Where a call's answer will be in the [`Replies`]; `R` is its result's type.
pub struct Slot<R> {
    id: u64,
    result: PhantomData<fn() -> R>,
}

/// The answers to a batch, each taken by its [`Slot`].
#[derive(Debug)]
pub struct Replies {
    answers: HashMap<u64, Answer>,
    /// The server answered the whole batch with one error (it could not read it).
    whole: Option<ErrorObject>,
}

#[derive(Debug)]
enum Answer {
    Result(Box<RawValue>),
    Error(ErrorObject),
    /// Two answers came with this id.
    Twice,
}

impl<'c> Batch<'c> {
    pub(super) fn new(client: &'c Client) -> Self {
        Self {
            client,
            body: Vec::from(*b"["),
            ids: Vec::new(),
        }
    }

    /// Adds a call of `method` with `params`; its result will decode as `R`.
    pub fn request<R: DeserializeOwned>(
        &mut self,
        method: &str,
        params: impl Serialize,
    ) -> Result<Slot<R>, Error> {
        let id = self.client.next_id();
        self.push(method, &params, Some(id))?;
        self.ids.push(id);
        Ok(Slot {
            id,
            result: PhantomData,
        })
    }

    /// Adds a typed call (`add::call(2, 3)`).
    pub fn call<P: Serialize, R: DeserializeOwned>(
        &mut self,
        call: TypedCall<P, R>,
    ) -> Result<Slot<R>, Error> {
        self.request(call.method(), call.params())
    }

    /// Adds a notification.
    pub fn notify(&mut self, method: &str, params: impl Serialize) -> Result<(), Error> {
        self.push(method, &params, None)
    }

    fn push(
        &mut self,
        method: &str,
        params: &impl Serialize,
        id: Option<u64>,
    ) -> Result<(), Error> {
        let mark = self.body.len();
        if mark > 1 {
            self.body.push(b',');
        }
        rpc_core::write_request(&mut self.body, method, params, id).map_err(|err| {
            self.body.truncate(mark);
            Error::new(Kind::Params(err.to_string()))
        })
    }

    /// Sends the batch. Fails as a whole only when no answer came (transport, HTTP status,
    /// time limit, an answer that is no batch answer); otherwise each call's outcome is its
    /// own, taken from the [`Replies`].
    pub async fn send(mut self) -> Result<Replies, Error> {
        let mut replies = Replies {
            answers: HashMap::new(),
            whole: None,
        };
        if self.body.len() == 1 {
            return Ok(replies); // nothing to send
        }
        self.body.push(b']');
        let trace = super::Trace::begin("(batch)", self.ids.first().copied());
        let awaits = if self.ids.is_empty() {
            super::Awaits::Nothing
        } else {
            super::Awaits::Batch(&self.ids)
        };
        let exchanged = self.client.exchange(awaits, self.body).await;
        trace.end(&exchanged);
        let (status, body) = exchanged?;
        if !status.is_success() {
            return Err(super::status_error(status, &body));
        }
        if self.ids.is_empty() {
            return super::nothing_due(status, &body).map(|()| replies);
        }
        let items: Vec<&RawValue> = match serde_json::from_slice(&body) {
            Ok(items) => items,
            Err(_) => {
                // One error object for the whole batch (it could not be read), or garbage.
                let response: Response<'_> = serde_json::from_slice(&body)
                    .map_err(|err| Error::protocol(err.to_string()))?;
                match response.outcome {
                    Err(error) => {
                        replies.whole = Some(error);
                        return Ok(replies);
                    }
                    Ok(_) => return Err(Error::protocol("a single result for a batch")),
                }
            }
        };
        for item in items {
            // An answer that is not a response, or has no id of ours, fails no other entry.
            let Ok(response) = serde_json::from_str::<Response<'_>>(item.get()) else {
                continue;
            };
            let Some(id) = response.id.as_u64() else {
                if let (true, Err(error)) = (response.id.is_null(), response.outcome) {
                    replies.whole.get_or_insert(error);
                }
                continue;
            };
            let answer = match response.outcome {
                Ok(result) => Answer::Result(result.to_owned()),
                Err(error) => Answer::Error(error),
            };
            replies
                .answers
                .entry(id)
                .and_modify(|seen| *seen = Answer::Twice)
                .or_insert(answer);
        }
        Ok(replies)
    }
}

impl Replies {
    /// The outcome of the call in `slot`: its result decoded, its error object, or why it has
    /// none (no answer came for it, or two did).
    pub fn get<R: DeserializeOwned>(&self, slot: &Slot<R>) -> Result<R, Error> {
        match self.answers.get(&slot.id) {
            Some(Answer::Result(raw)) => serde_json::from_str(raw.get())
                .map_err(|err| Error::new(Kind::Decode(err.to_string()))),
            Some(Answer::Error(error)) => Err(Error::new(Kind::Rpc {
                error: error.clone(),
                status: None,
            })),
            Some(Answer::Twice) => Err(Error::protocol(format!("two answers for id {}", slot.id))),
            None => match &self.whole {
                Some(error) => Err(Error::new(Kind::Rpc {
                    error: error.clone(),
                    status: None,
                })),
                None => Err(Error::protocol(format!("no answer for id {}", slot.id))),
            },
        }
    }
}

impl fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("calls", &self.ids.len())
            .finish_non_exhaustive()
    }
}

impl<R> fmt::Debug for Slot<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("id", &self.id).finish()
    }
}
