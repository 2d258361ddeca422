//! The HTTP transport: the endpoint as a hyper and tower service, the future of each response,
//! reading bodies, and the answers it gives.

mod body;
mod future;
mod reply;
mod service;
mod services;
#[cfg(feature = "ws")]
mod ws_settings;

pub use future::ResponseFuture;
#[cfg(feature = "ws")]
pub(crate) use reply::plain;
#[cfg(feature = "ws")]
pub(crate) use service::Head;
pub use service::{
    ResponseBody, RpcService, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_REQUEST_TIMEOUT,
    TIMEOUT_ERROR_CODE,
};
