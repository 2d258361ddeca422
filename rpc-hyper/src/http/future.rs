//! The future of one response.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Response, StatusCode};
use http_body::Body;

use super::body::{BodyReader, ReadError};
use super::reply::plain;
use super::service::RpcService;
use crate::head::Head;
use crate::response::ResponseBody;
use crate::served::BoxError;

pin_project_lite::pin_project! {
    /// The future of one response from [`RpcService`].
    ///
    /// It reads the body in place and, for a router whose methods are all sync, answers as
    /// soon as the body is in: no allocation for the future itself. A router with async
    /// methods, or a request traced at debug level, takes a boxed path.
    pub struct ResponseFuture<S, B> {
        #[pin]
        state: State<S, B>,
    }
}

/// The boxed future of an answer: async methods running, or a traced request.
pub(super) type Answering = Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>>;

pin_project_lite::pin_project! {
    #[project = StateProj]
    pub(super) enum State<S, B> {
        // The response is known.
        Ready { response: Option<Response<ResponseBody>> },
        // The body is being read; the timer starts if it does not come at once.
        Reading {
            service: RpcService<S>,
            head: Head,
            #[pin]
            body: B,
            reader: BodyReader,
            deadline: Option<Pin<Box<tokio::time::Sleep>>>,
        },
        // Async methods are running, or a traced request is handled.
        Waiting { future: Answering },
    }
}

impl<S, B: Body> ResponseFuture<S, B> {
    /// A future that yields `response`: for services that answer some requests themselves
    /// and pass the others to an [`RpcService`], with one future type for both.
    pub fn ready(response: Response<ResponseBody>) -> Self {
        Self {
            state: State::Ready {
                response: Some(response),
            },
        }
    }

    #[inline(always)]
    pub(super) fn reading(service: RpcService<S>, head: Head, body: B) -> Self {
        let config = &service.inner.config;
        let reader = BodyReader::new(config.max_body_size, body.size_hint().lower());
        Self {
            state: State::Reading {
                service,
                head,
                body,
                reader,
                deadline: None,
            },
        }
    }

    pub(super) fn waiting(
        future: impl Future<Output = Response<ResponseBody>> + Send + 'static,
    ) -> Self {
        Self {
            state: State::Waiting {
                future: Box::pin(future),
            },
        }
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Send + Sync + 'static,
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Ready { response } => {
                    // Polled again after it completed: a broken caller, answered, not a panic.
                    let response = response.take().unwrap_or_else(|| {
                        plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
                    });
                    return Poll::Ready(Ok(response));
                }
                StateProj::Waiting { future } => return future.as_mut().poll(cx).map(Ok),
                StateProj::Reading {
                    service,
                    head,
                    body,
                    reader,
                    deadline,
                } => {
                    let read = match reader.poll_read(body, cx) {
                        Poll::Ready(read) => read,
                        // A body that came with its head is complete at once: no timer. One
                        // still arriving must finish within the body timeout, or a slow
                        // client could hold its connection for ever.
                        Poll::Pending => {
                            let timeout = service.inner.config.body_timeout;
                            let deadline = deadline
                                .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                            if deadline.as_mut().poll(cx).is_pending() {
                                return Poll::Pending;
                            }
                            Err(ReadError::TimedOut)
                        }
                    };
                    match read {
                        Ok(body) => match service.dispatch(body, head) {
                            // Answered: what is left of the request goes, and the future is
                            // done.
                            Ok(response) => {
                                let done = State::Ready { response: None };
                                self.as_mut().project().state.set(done);
                                return Poll::Ready(Ok(response));
                            }
                            Err(future) => State::Waiting { future },
                        },
                        Err(err) => {
                            if let ReadError::TooLarge = err {
                                service.linger_after_refusal();
                            }
                            State::Ready {
                                response: Some(err.response()),
                            }
                        }
                    }
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Ready { .. } => "ready",
            State::Reading { .. } => "reading the body",
            State::Waiting { .. } => "waiting",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
