//! What a connection serves: the bound on the services the server runs. A leaf: the
//! listener, each connection and its wrappers name it, and it names none of them.

use std::convert::Infallible;
use std::error::Error as StdError;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;

/// The error a response body may fail with.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// What a service must be for the server to run it: a cloneable tower service of hyper's
/// requests that never fails (errors are responses) and whose future can move between threads.
/// [`RpcService`](crate::RpcService), an axum `Router` and most tower stacks are.
///
/// It must also be `Unpin` (as services holding only data and reference counts are): a
/// connection waiting for its next request is parked, its service moved out of hyper's
/// connection and into the next one.
pub trait HttpService:
    tower_service::Service<
        Request<Incoming>,
        Response = Response<Self::ResponseBody>,
        Error = Infallible,
        Future: Send,
    > + Clone
    + Send
    + Unpin
    + 'static
{
    /// The body of the responses.
    type ResponseBody: Body<Data: Send, Error: Into<BoxError>> + Send + 'static;
}

impl<T, B> HttpService for T
where
    T: tower_service::Service<
            Request<Incoming>,
            Response = Response<B>,
            Error = Infallible,
            Future: Send,
        > + Clone
        + Send
        + Unpin
        + 'static,
    B: Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
{
    type ResponseBody = B;
}
