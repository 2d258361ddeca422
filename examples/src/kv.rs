//! An in-memory key-value service: each caller sees their own keys. It shows what a real
//! service is made of: a module of methods nested under `kv.`, the caller's identity (from the
//! bearer-token layer in front) read inside the methods, access rules and rate limits as call
//! layers, an error enum mapped to application codes, and a log line per call with the
//! request's `X-Request-Id`.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use rpc_core::openrpc::Info;
use rpc_core::{rpc_method, ErrorObject, Ext, Methods, Router, State};
use rpc_hyper::RpcService;
use serde_json::json;
use tokio::net::TcpListener;
use tower::Layer;

use crate::auth::{BearerAuthLayer, Identity};
use crate::layers::{AccessControl, CallLog, RateLimit};

/// The longest value `kv.set` takes, in bytes.
pub const MAX_VALUE_LEN: usize = 1024;

/// The most keys `kv.list` returns.
pub const MAX_LIST: usize = 100;

/// The demo users: (token, identity). `alice` may do everything, `bob` only read.
pub const USERS: [(&str, &str); 2] = [("alice-token", "alice"), ("bob-token", "bob")];

/// Every caller's keys.
#[derive(Debug, Default)]
pub struct Store {
    by_owner: Mutex<HashMap<Identity, BTreeMap<String, String>>>,
}

impl Store {
    /// Runs `f` on the caller's keys.
    fn with<R>(&self, owner: &Identity, f: impl FnOnce(&mut BTreeMap<String, String>) -> R) -> R {
        // A poisoned lock means a method panicked mid-change; the map is still a map.
        let mut all = self
            .by_owner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(all.entry(owner.clone()).or_default())
    }
}

/// What can go wrong, each with its application error code.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The key is not there (code 4040, data: the key).
    #[error("no such key")]
    NotFound {
        /// The key asked for.
        key: String,
    },
    /// The value is longer than [`MAX_VALUE_LEN`] (code 4130, data: the limit and the length).
    #[error("value too large")]
    TooLarge {
        /// The value's length.
        len: usize,
    },
    /// A key must not be empty (code 4000).
    #[error("empty key")]
    EmptyKey,
}

impl From<KvError> for ErrorObject {
    fn from(err: KvError) -> Self {
        let message = err.to_string();
        match err {
            KvError::NotFound { key } => {
                ErrorObject::new(4040, message).with_data(json!({"key": key}))
            }
            KvError::TooLarge { len } => ErrorObject::new(4130, message)
                .with_data(json!({"limit": MAX_VALUE_LEN, "len": len})),
            KvError::EmptyKey => ErrorObject::new(4000, message),
        }
    }
}

/// Stores `value` under `key`, returning the value it replaced. Async: it waits as a write
/// to a disk or a database would.
#[rpc_method(errors(4000 = "empty key", 4130 = "value too large"))]
async fn set(
    store: State<'_, Store>,
    caller: Ext<'_, Identity>,
    key: String,
    value: String,
) -> Result<Option<String>, KvError> {
    if key.is_empty() {
        return Err(KvError::EmptyKey);
    }
    if value.len() > MAX_VALUE_LEN {
        return Err(KvError::TooLarge { len: value.len() });
    }
    tokio::time::sleep(Duration::from_millis(2)).await;
    Ok(store.with(&caller, |keys| keys.insert(key, value)))
}

/// The value under `key`.
#[rpc_method(errors(4040 = "no such key"))]
fn get(store: State<'_, Store>, caller: Ext<'_, Identity>, key: String) -> Result<String, KvError> {
    store
        .with(&caller, |keys| keys.get(&key).cloned())
        .ok_or(KvError::NotFound { key })
}

/// Removes `key`, returning its value.
#[rpc_method(errors(4040 = "no such key"))]
fn delete(
    store: State<'_, Store>,
    caller: Ext<'_, Identity>,
    key: String,
) -> Result<String, KvError> {
    store
        .with(&caller, |keys| keys.remove(&key))
        .ok_or(KvError::NotFound { key })
}

/// The caller's keys in order, those beginning with `prefix` if given, at most `limit` (and
/// never more than 100).
#[rpc_method]
fn list(
    store: State<'_, Store>,
    caller: Ext<'_, Identity>,
    prefix: Option<String>,
    limit: Option<usize>,
) -> Vec<String> {
    let prefix = prefix.unwrap_or_default();
    let limit = limit.unwrap_or(MAX_LIST).min(MAX_LIST);
    store.with(&caller, |keys| {
        keys.range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .take(limit)
            .map(|(key, _)| key.clone())
            .collect()
    })
}

/// The key-value module: `set`, `get`, `delete`, `list`, to nest under a prefix.
pub fn methods() -> Methods<Store> {
    let mut methods = Methods::new();
    methods
        .register(set::method())
        .and_then(|m| m.register(get::method()))
        .and_then(|m| m.register(delete::method()))
        .and_then(|m| m.register(list::method()))
        .expect("distinct names");
    methods
}

/// The router: the module under `kv.`, behind a log line per call (outermost, so it sees
/// refusals too), the access rules and the rate limits.
pub fn router() -> Router<Store> {
    let mut router = Router::with_state(Store::default());
    router
        .nest("kv.", methods())
        .and_then(|r| r.discover(info()))
        .expect("free names");
    router
        .layer(CallLog)
        .layer(
            AccessControl::new()
                .allow("alice", &["kv.*", "rpc.discover"])
                .allow("bob", &["kv.get", "kv.list", "rpc.discover"]),
        )
        .layer(
            RateLimit::new()
                .limit("kv.set", 20, Duration::from_millis(100))
                .limit("kv.list", 3, Duration::from_secs(10)),
        );
    router
}

/// What the service's OpenRPC document says of it (`rpc.discover`).
pub fn info() -> Info {
    Info::new("Key-value store", "1.0.0")
        .description("Each caller's own keys and values, behind a bearer token.")
}

/// Serves the service on `listener` behind bearer-token authentication with the demo users,
/// until `shutdown` completes.
///
/// # Errors
/// When accepting connections fails for good.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = BearerAuthLayer::with_users(USERS).layer(RpcService::new(router()));
    rpc_hyper::serve_service(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
