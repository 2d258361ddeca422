//! A user's crate as strict as they come, depending on `rpc-core` alone: the code that
//! `#[rpc_method]` and `#[rpc_subscription]` generate must compile here without a warning
//! (clippy included).
#![forbid(unsafe_code)]
#![deny(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused,
    warnings,
    rust_2018_idioms,
    clippy::all,
    clippy::pedantic
)]

use rpc_core::{rpc_method, rpc_subscription, ErrorObject, Router, Sink, State};

/// Adds two integers.
///
/// # Errors
/// Invalid params on overflow.
#[rpc_method]
pub fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

/// Greets, later.
#[rpc_method(name = "greet.later")]
pub async fn greet(#[rpc(rename = "who")] name: String, punctuation: Option<char>) -> String {
    let mark = std::future::ready(punctuation.unwrap_or('!')).await;
    format!("Hello, {name}{mark}")
}

/// The shared state.
#[derive(Debug, Default)]
pub struct Counter(std::sync::atomic::AtomicU64);

/// Counts.
#[rpc_method]
#[must_use]
pub fn count(counter: State<'_, Counter>) -> u64 {
    counter.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

/// Counts up from the counter, for as long as the client listens.
///
/// # Errors
/// Never, in fact; a subscription may end with an error, which is logged.
#[rpc_subscription(notification = "tick")]
pub async fn ticks(
    counter: State<'_, Counter>,
    #[rpc(rename = "limit")] most: Option<u64>,
    sink: Sink<u64>,
) -> Result<(), std::fmt::Error> {
    for _ in 0..most.unwrap_or(3) {
        let next = counter.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if sink.send(next).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Methods written by the user's own macro.
macro_rules! scaled {
    ($($(#[$doc:meta])* $name:ident => $factor:expr;)*) => {
        $(
            $(#[$doc])*
            #[rpc_method]
            pub fn $name(value: i64) -> i64 {
                value * $factor
            }
        )*
    };
}

scaled! {
    /// Doubles.
    double => 2;
    /// Triples.
    triple => 3;
}

/// Methods in a module without the prelude: generated code names everything by path.
pub mod bare {
    #![no_implicit_prelude]

    /// Echoes its input.
    #[::rpc_core::rpc_method]
    #[must_use]
    pub fn echo(text: ::std::string::String) -> ::std::string::String {
        text
    }

    /// Sends its input once.
    #[::rpc_core::rpc_subscription]
    pub async fn once(text: ::std::string::String, sink: ::rpc_core::Sink<::std::string::String>) {
        let _ = sink.send(text).await;
    }
}

/// The router with every method above.
///
/// # Panics
/// Never: the names are distinct.
#[must_use]
pub fn router() -> Router<Counter> {
    let mut router = Router::with_state(Counter::default());
    for method in [
        add::method(),
        greet::method(),
        count::method(),
        double::method(),
        triple::method(),
        bare::echo::method(),
        ticks::method(),
        bare::once::method(),
    ] {
        router.register(method).expect("distinct names");
    }
    router
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_method_is_registered_and_answers() {
        let router = super::router();
        let names: Vec<_> = router.methods().map(|m| m.name.to_string()).collect();
        assert_eq!(
            names,
            [
                "add",
                "greet.later",
                "count",
                "double",
                "triple",
                "echo",
                "subscribe_ticks",
                "unsubscribe_ticks",
                "subscribe_once",
                "unsubscribe_once"
            ]
        );
        let body = br#"{"jsonrpc":"2.0","method":"triple","params":{"value":5},"id":1}"#;
        let mut future = std::pin::pin!(router.handle(body));
        let waker = std::task::Waker::noop();
        let std::task::Poll::Ready(response) =
            std::future::Future::poll(future.as_mut(), &mut std::task::Context::from_waker(waker))
        else {
            panic!("a sync method does not wait");
        };
        assert_eq!(
            response.as_deref(),
            Some(&br#"{"jsonrpc":"2.0","result":15,"id":1}"#[..])
        );
    }
}
