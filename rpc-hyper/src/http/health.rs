//! The server's health check on the endpoint: where it is answered.

use http::{Method, Request};

use super::service::RpcService;

/// Where the endpoint answers its server's health check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Health {
    /// Not chosen: at `/health` when [`serve`](crate::serve) serves the endpoint itself;
    /// nowhere when it is mounted in another router.
    Unset,
    /// At this path.
    At(Box<str>),
    /// Nowhere.
    Off,
}

impl<S: Send + Sync + 'static> RpcService<S> {
    /// Answers the server's health check at `path` (`GET` or `HEAD`; a path other than the
    /// RPC path, where a `GET` is refused or upgraded to a WebSocket): `200 OK` while the
    /// server serves, `503 Service Unavailable` once its shutdown has begun (see
    /// [`health_response`](crate::health_response)). [`serve`](crate::serve) serves an
    /// endpoint's health check at `/health` unless told otherwise; a mounted endpoint has
    /// none unless given one.
    #[must_use]
    pub fn health_path(mut self, path: &str) -> Self {
        self.config_mut().health = Health::At(path.into());
        self
    }

    /// Answers no health check.
    #[must_use]
    pub fn no_health_check(mut self) -> Self {
        self.config_mut().health = Health::Off;
        self
    }

    /// Whether `request` is the server's health check.
    pub(super) fn is_health_check<B>(&self, request: &Request<B>) -> bool {
        match &self.inner.config.health {
            Health::At(path) => {
                request.uri().path() == &**path
                    && (request.method() == Method::GET || request.method() == Method::HEAD)
            }
            Health::Unset | Health::Off => false,
        }
    }
}
