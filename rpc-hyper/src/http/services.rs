//! The endpoint as a tower `Service` and as a hyper `Service`: the two ways it is called.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;

use super::future::ResponseFuture;
use rpc_core::Router;

use super::service::RpcService;
use crate::local::Connection;
use crate::response::ResponseBody;
use crate::served::BoxError;

impl<S, B> tower_service::Service<Request<B>> for RpcService<S>
where
    S: Send + Sync + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        hyper::service::Service::call(&*self, request)
    }
}

impl<S, B> hyper::service::Service<Request<B>> for RpcService<S>
where
    S: Send + Sync + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture<S, B>;

    #[inline(always)]
    fn call(&self, request: Request<B>) -> Self::Future {
        // With tracing on, the whole of `handle` (span, timing), boxed.
        let connection = Connection::current();
        if tracing::enabled!(tracing::Level::DEBUG) {
            let service = self.clone();
            return ResponseFuture::waiting(
                async move { service.handle_on(request, connection).await },
            );
        }
        self.respond(request, connection)
    }
}

impl<S> Clone for RpcService<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> fmt::Debug for RpcService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcService")
            .field("router", &self.inner.router)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl<S: Send + Sync + 'static> From<Router<S>> for RpcService<S> {
    fn from(router: Router<S>) -> Self {
        Self::new(router)
    }
}
