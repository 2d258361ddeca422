//! The incumbent for the WebSocket benchmark: a jsonrpsee 0.26 server (WebSocket and HTTP on one
//! port) with the same three methods as `ours`, written the way jsonrpsee's docs and examples
//! do it: an `RpcModule` built by hand, a `tokio::sync::broadcast` channel as the module context,
//! and subscriptions that accept the `PendingSubscriptionSink` and then pipe items into the sink.
//!
//! Usage: `theirs ADDR` (e.g. `theirs 127.0.0.1:5202`). Stops gracefully on SIGTERM or ctrl-c.
//!
//! Methods:
//! - `add` `[a, b]` or `{"a": a, "b": b}` (i64) -> `a + b`; overflow -> -32602 "Invalid params",
//!   data "integer overflow". Each success is broadcast to every `results` subscriber as
//!   `{"method":"add","a":a,"b":b,"result":sum}`.
//! - `subscribe_results` / `unsubscribe_results`, notification `results`, no params.
//! - `subscribe_countdown` / `unsubscribe_countdown`, notification `countdown`,
//!   params `[from, interval_ms]`: sends from, from-1, ..., 0 and then ends.

use std::time::Duration;

use jsonrpsee::server::{RpcModule, Server, ServerConfig};
use jsonrpsee::types::error::{INVALID_PARAMS_CODE, INVALID_PARAMS_MSG};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Capacity of the broadcast channel behind `results`: a subscriber further behind than this
/// misses items (`RecvError::Lagged`) and skips ahead.
const RESULTS_CAPACITY: usize = 1024;

/// Room for the 10,000-idle-connections test (jsonrpsee's default is 100).
const MAX_CONNECTIONS: u32 = 20_000;

/// Same as jsonrpsee's default, set explicitly so the benchmark's setting is visible here.
const MAX_SUBSCRIPTIONS_PER_CONNECTION: u32 = 1024;

/// `add` takes `[a, b]` or `{"a": a, "b": b}`: serde's derived `Deserialize` for a struct with
/// named fields accepts both a JSON object and a JSON array of the fields in order.
#[derive(Deserialize)]
struct AddParams {
	a: i64,
	b: i64,
}

/// One item on the `results` broadcast: `{"method":"add","a":..,"b":..,"result":..}`.
#[derive(Clone, Copy, Debug, Serialize)]
struct AddResult {
	method: &'static str,
	a: i64,
	b: i64,
	result: i64,
}

type Context = broadcast::Sender<AddResult>;

fn add(params: Params, results: &Context) -> Result<i64, ErrorObjectOwned> {
	let AddParams { a, b } = params.parse()?;
	let sum = a
		.checked_add(b)
		.ok_or_else(|| ErrorObject::owned(INVALID_PARAMS_CODE, INVALID_PARAMS_MSG, Some("integer overflow")))?;
	// Fails only when nobody is subscribed, which is fine.
	let _ = results.send(AddResult { method: "add", a, b, result: sum });
	Ok(sum)
}

/// `subscribe_results`: forward every broadcast item until the subscription or connection closes.
async fn results(pending: PendingSubscriptionSink, results: &Context) -> Result<(), jsonrpsee::core::SubscriptionError> {
	// Subscribe before accepting, so every `add` made after the client sees the subscription id
	// reaches it.
	let mut rx = results.subscribe();
	let sink = pending.accept().await?;

	loop {
		tokio::select! {
			_ = sink.closed() => break Ok(()),
			item = rx.recv() => match item {
				Ok(item) => {
					let msg = serde_json::value::to_raw_value(&item)?;
					// Waits for room in the connection's message buffer (backpressure).
					if sink.send(msg).await.is_err() {
						break Ok(());
					}
				}
				// This subscriber fell more than RESULTS_CAPACITY items behind: skip what it missed.
				Err(broadcast::error::RecvError::Lagged(_)) => continue,
				Err(broadcast::error::RecvError::Closed) => break Ok(()),
			},
		}
	}
}

/// `subscribe_countdown [from, interval_ms]`: from, from-1, ..., 0, then the subscription ends.
async fn countdown(params: Params<'static>, pending: PendingSubscriptionSink) -> Result<(), jsonrpsee::core::SubscriptionError> {
	let (from, interval_ms) = match params.parse::<(u64, u64)>() {
		Ok(p) => p,
		Err(e) => {
			pending.reject(e).await;
			return Ok(());
		}
	};
	let sink = pending.accept().await?;

	let mut ticks = (interval_ms > 0).then(|| tokio::time::interval(Duration::from_millis(interval_ms)));
	for n in (0..=from).rev() {
		if let Some(ticks) = ticks.as_mut() {
			tokio::select! {
				_ = sink.closed() => return Ok(()),
				_ = ticks.tick() => {}
			}
		}
		let msg = SubscriptionMessage::from(serde_json::value::to_raw_value(&n)?);
		if sink.send(msg).await.is_err() {
			return Ok(());
		}
	}
	Ok(())
}

fn rpc_module() -> RpcModule<Context> {
	let (tx, _rx) = broadcast::channel::<AddResult>(RESULTS_CAPACITY);
	let mut module = RpcModule::new(tx);

	module.register_method("add", |params, ctx, _| add(params, ctx)).expect("add registers");
	module
		.register_subscription("subscribe_results", "results", "unsubscribe_results", |_, pending, ctx, _| async move {
			results(pending, &ctx).await
		})
		.expect("subscribe_results registers");
	module
		.register_subscription("subscribe_countdown", "countdown", "unsubscribe_countdown", |params, pending, _, _| {
			countdown(params, pending)
		})
		.expect("subscribe_countdown registers");
	module
}

async fn shutdown_signal() {
	#[cfg(unix)]
	{
		let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
			.expect("install SIGTERM handler");
		tokio::select! {
			_ = tokio::signal::ctrl_c() => {}
			_ = term.recv() => {}
		}
	}
	#[cfg(not(unix))]
	{
		let _ = tokio::signal::ctrl_c().await;
	}
}

#[tokio::main]
async fn main() {
	let Some(addr) = std::env::args().nth(1) else {
		eprintln!("usage: theirs ADDR   (e.g. theirs 127.0.0.1:5202)");
		std::process::exit(2);
	};

	let config = ServerConfig::builder()
		.max_connections(MAX_CONNECTIONS)
		.max_subscriptions_per_connection(MAX_SUBSCRIPTIONS_PER_CONNECTION)
		.build();
	let server = match Server::builder().set_config(config).build(addr.as_str()).await {
		Ok(server) => server,
		Err(e) => {
			eprintln!("theirs: cannot listen on {addr}: {e}");
			std::process::exit(1);
		}
	};

	let handle = server.start(rpc_module());

	shutdown_signal().await;
	// Already stopped only if the handle was stopped elsewhere, which nothing here does.
	let _ = handle.stop();
	handle.stopped().await;
}
