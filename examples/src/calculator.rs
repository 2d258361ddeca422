//! The tutorial's calculator: four methods over 64-bit integers and a `wait`, served at
//! `POST /rpc` and over a WebSocket at `/rpc`, with a greeting at `GET /`, and over stdio, a
//! Unix socket or TCP; and two subscriptions, a countdown and the results of everyone's
//! calculations.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::task::{Context, Poll};

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use rpc_core::openrpc::{Document, Info};
use rpc_core::{rpc_method, rpc_subscription, Broadcast, ErrorObject, Router, Sink, State};
use rpc_hyper::{ResponseBody, ResponseFuture, RpcService};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

/// The address the calculator listens on unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:5000";

fn overflow() -> ErrorObject {
    ErrorObject::invalid_params("integer overflow")
}

/// What the calculator's methods share: the feed of results that `subscribe_results` watches.
#[derive(Debug, Default)]
pub struct Calc {
    results: Results,
}

/// Where results go: to this process's watchers, or (`--redis`) to every instance's.
#[derive(Debug)]
enum Results {
    Local(Broadcast<Computed>),
    #[cfg(feature = "redis")]
    Redis(rpc_redis::RedisFeed<Computed>),
}

impl Default for Results {
    fn default() -> Self {
        Results::Local(Broadcast::new())
    }
}

impl Calc {
    /// A calculator whose results are fed through the Redis at `url` (the `redis` feature):
    /// every calculator on it sees the results computed on any. Made inside a tokio runtime.
    #[cfg(feature = "redis")]
    pub fn with_redis(url: &str) -> Result<Self, rpc_redis::redis::RedisError> {
        let feed = rpc_redis::RedisFeed::new(url, "calculator:results")?;
        Ok(Self {
            results: Results::Redis(feed),
        })
    }
}

/// One successful calculation, as `subscribe_results` sends it: params by name, whichever
/// shape the call used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Computed {
    /// `add`, `subtract`, `multiply` or `divide`.
    pub method: Cow<'static, str>,
    /// The first operand.
    pub a: i64,
    /// The second operand.
    pub b: i64,
    /// What the call answered.
    pub result: Number,
}

/// A result: an integer, or `divide`'s float.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Number {
    /// From `add`, `subtract` and `multiply`.
    Int(i64),
    /// From `divide`.
    Float(f64),
}

impl Calc {
    /// Tells the watchers of `subscribe_results`; with none, it costs one atomic load.
    fn computed(&self, method: &'static str, a: i64, b: i64, result: Number) {
        let computed = Computed {
            method: Cow::Borrowed(method),
            a,
            b,
            result,
        };
        match &self.results {
            // A plain struct of numbers always serializes.
            Results::Local(broadcast) => {
                let _ = broadcast.send(&computed);
            }
            // Not waited for: the call answers at once. Lost if Redis is away (logged once).
            #[cfg(feature = "redis")]
            Results::Redis(feed) => {
                if let Err(err) = feed.send(&computed) {
                    tracing::debug!(error = %err, "a result was not fed to Redis");
                }
            }
        }
    }
}

/// Adds two integers.
///
/// # Errors
/// Invalid params when the sum does not fit in 64 bits.
#[rpc_method]
pub fn add(calc: State<'_, Calc>, a: i64, b: i64) -> Result<i64, ErrorObject> {
    let sum = a.checked_add(b).ok_or_else(overflow)?;
    calc.computed("add", a, b, Number::Int(sum));
    Ok(sum)
}

/// Subtracts `b` from `a`.
///
/// # Errors
/// Invalid params when the difference does not fit in 64 bits.
#[rpc_method]
pub fn subtract(calc: State<'_, Calc>, a: i64, b: i64) -> Result<i64, ErrorObject> {
    let difference = a.checked_sub(b).ok_or_else(overflow)?;
    calc.computed("subtract", a, b, Number::Int(difference));
    Ok(difference)
}

/// Multiplies two integers.
///
/// # Errors
/// Invalid params when the product does not fit in 64 bits.
#[rpc_method]
pub fn multiply(calc: State<'_, Calc>, a: i64, b: i64) -> Result<i64, ErrorObject> {
    let product = a.checked_mul(b).ok_or_else(overflow)?;
    calc.computed("multiply", a, b, Number::Int(product));
    Ok(product)
}

/// Divides `a` by `b`, as a float: `6 / 3` is `2.0`.
///
/// # Errors
/// Invalid params when `b` is zero.
#[rpc_method]
pub fn divide(calc: State<'_, Calc>, a: i64, b: i64) -> Result<f64, ErrorObject> {
    if b == 0 {
        return Err(ErrorObject::invalid_params("division by zero"));
    }
    #[allow(clippy::cast_precision_loss)] // a float answer is the point
    let quotient = a as f64 / b as f64;
    calc.computed("divide", a, b, Number::Float(quotient));
    Ok(quotient)
}

/// The longest pause the calculator takes: a countdown's between two numbers, or a `wait`:
/// one minute.
pub const MAX_INTERVAL_MS: u64 = 60_000;

/// A pause in milliseconds: at most [`MAX_INTERVAL_MS`], checked as the params are read, so
/// that a call asking for more is answered "Invalid params" and starts nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Millis(u64);

impl Millis {
    /// `millis`, if it is at most [`MAX_INTERVAL_MS`].
    pub fn new(millis: u64) -> Option<Self> {
        (millis <= MAX_INTERVAL_MS).then_some(Self(millis))
    }

    /// The pause, as a duration.
    pub fn duration(self) -> Duration {
        Duration::from_millis(self.0)
    }
}

/// An integer from 0 to [`MAX_INTERVAL_MS`], as its `Deserialize` checks.
impl JsonSchema for Millis {
    fn schema_name() -> Cow<'static, str> {
        "Millis".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Milliseconds: 0 to 60000.",
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_INTERVAL_MS,
        })
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let millis = u64::deserialize(deserializer)?;
        if millis > MAX_INTERVAL_MS {
            return Err(serde::de::Error::custom(format_args!(
                "at most {MAX_INTERVAL_MS} ms, not {millis}"
            )));
        }
        Ok(Self(millis))
    }
}

/// Sleeps `ms` milliseconds (at most 60,000), then answers `ms`: for trying how calls of one
/// connection run concurrently, and cancellation.
#[rpc_method]
pub async fn wait(ms: Millis) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms.0)).await;
    ms.0
}

/// Counts down from `from` to 0, one number every `interval_ms` milliseconds (0: as fast as
/// the client reads), then ends. Notifications are named `countdown`;
/// `unsubscribe_countdown` ends it early.
#[rpc_subscription]
pub async fn countdown(from: u64, interval_ms: Millis, sink: Sink<u64>) {
    let mut ticks = (interval_ms.0 > 0).then(|| {
        let mut ticks = tokio::time::interval(Duration::from_millis(interval_ms.0));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    for n in (0..=from).rev() {
        if let Some(ticks) = &mut ticks {
            ticks.tick().await;
        }
        if sink.send(n).await.is_err() {
            return; // unsubscribed, or the client went away
        }
    }
}

/// Watches every later successful `add`, `subtract`, `multiply` or `divide`, by any client over
/// HTTP or WebSocket: notifications named `results`, such as
/// `{"method": "add", "a": 2, "b": 3, "result": 5}`. `unsubscribe_results` ends it.
#[rpc_subscription]
pub async fn results(calc: State<'_, Calc>, sink: Sink<Computed>) {
    match &calc.results {
        Results::Local(broadcast) => broadcast.attach(sink).await,
        #[cfg(feature = "redis")]
        Results::Redis(feed) => feed.attach(sink).await,
    }
}

/// The calculator's methods.
///
/// # Panics
/// Never: the names are distinct.
pub fn router() -> Router<Calc> {
    router_with(Calc::default())
}

/// The calculator's methods, on `calc`.
///
/// # Panics
/// Never: the names are distinct.
pub fn router_with(calc: Calc) -> Router<Calc> {
    let mut router = Router::with_state(calc);
    router
        .register(add::method())
        .and_then(|r| r.register(subtract::method()))
        .and_then(|r| r.register(multiply::method()))
        .and_then(|r| r.register(divide::method()))
        .and_then(|r| r.register(wait::method()))
        .and_then(|r| r.register(countdown::method()))
        .and_then(|r| r.register(results::method()))
        .and_then(|r| r.discover(info()))
        .expect("distinct names");
    router
}

/// What the calculator's OpenRPC document says of it (`rpc.discover`).
pub fn info() -> Info {
    Info::new("Calculator", "1.0.0").description(
        "The tutorial's calculator: four methods over 64-bit integers, a countdown and a feed of \
         everyone's results (subscriptions, over a WebSocket).",
    )
}

/// The calculator's OpenRPC document, as `rpc.discover` answers it; the repository keeps it
/// in `examples/calculator.openrpc.json`, and a test fails when the two differ.
pub fn openrpc() -> Document {
    router().openrpc(&info())
}

/// The HTTP app: `GET /` greets, `POST /rpc` is JSON-RPC, anything else is 404.
///
/// A route beside the endpoint needs no web framework: a small tower service sends `/` to
/// the greeting and everything else to the endpoint. (`examples/axum.rs` mounts the endpoint
/// in axum instead.)
#[derive(Clone, Debug)]
pub struct App {
    rpc: RpcService<Calc>,
}

/// The calculator's app: JSON-RPC over HTTP and WebSocket at `/rpc`. Browser pages may open
/// a WebSocket from `allowed_origins` only.
pub fn app(allowed_origins: &[String]) -> App {
    app_for(Arc::new(router()), allowed_origins)
}

/// [`app`] for a router shared with other transports (stdio, a Unix socket, TCP): the
/// results of every transport's calculations go to the watchers of every transport.
pub fn app_for(router: Arc<Router<Calc>>, allowed_origins: &[String]) -> App {
    let rpc = allowed_origins
        .iter()
        .fold(RpcService::new(router).path("/rpc"), |rpc, origin| {
            rpc.allow_origin(origin)
        });
    App { rpc }
}

impl<B> tower::Service<http::Request<B>> for App
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = http::Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture<Calc, B>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != "/" {
            return self.rpc.call(request);
        }
        let response =
            if request.method() == http::Method::GET || request.method() == http::Method::HEAD {
                http::Response::new(ResponseBody::from("Hello, world!"))
            } else {
                let mut response = http::Response::new(ResponseBody::default());
                *response.status_mut() = http::StatusCode::METHOD_NOT_ALLOWED;
                response.headers_mut().insert(
                    http::header::ALLOW,
                    http::HeaderValue::from_static("GET, HEAD"),
                );
                response
            };
        ResponseFuture::ready(response)
    }
}

/// Serves the calculator on `listener` until `shutdown` completes, then drains gracefully.
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, rpc_hyper::DEFAULT_MAX_CONNECTIONS, &[], shutdown).await
}

/// Like [`serve`], with at most `max_connections` served at once, and WebSockets from browser
/// pages of `allowed_origins`.
///
/// # Errors
/// When the listener fails.
pub async fn serve_with(
    listener: TcpListener,
    max_connections: usize,
    allowed_origins: &[String],
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    rpc_hyper::serve_service(listener, app(allowed_origins))
        .max_connections(max_connections)
        .with_graceful_shutdown(shutdown)
        .await
}
