//! The boxed future async methods, layers and subscriptions return. A leaf: the modules that
//! make such futures and the ones that drive them both name it.

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future: what an async method returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
