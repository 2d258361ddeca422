//! The HTTP transport: the endpoint as a hyper and tower service, the future of each response,
//! reading bodies, and the answers it gives.

mod body;
mod future;
mod health;
mod reply;
mod service;
mod services;
#[cfg(feature = "ws")]
mod ws_settings;

pub use future::ResponseFuture;
pub use reply::health_response;
pub use service::RpcService;
