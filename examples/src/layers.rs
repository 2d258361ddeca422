//! Three call layers to copy: access rules per identity, a rate limit per method, and a log
//! line per call. Each runs once per call, in single calls and batches alike (see
//! `rpc_core::CallLayer`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rpc_core::{Call, CallLayer, ErrorObject, HeaderMap, Outcome};
use serde_json::json;

use crate::auth::Identity;

/// The code of the error a call gets when its caller may not call its method.
pub const FORBIDDEN: i32 = 4003;

/// The code of the error a call gets past its method's rate limit; its `data` says when to
/// retry: `{"retry_after_ms": 250}`.
pub const RATE_LIMITED: i32 = 4029;

/// Which methods each identity may call. A call from an identity without rules, or to a
/// method its rules do not name, is answered [`FORBIDDEN`] and its method does not run.
///
/// A rule is a method name, or a prefix ending in `*` (`kv.*`).
#[derive(Debug, Default)]
pub struct AccessControl {
    rules: HashMap<Box<str>, Vec<Box<str>>>,
}

impl AccessControl {
    /// No rules: every call is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets `identity` call the methods `rules` name.
    #[must_use]
    pub fn allow(mut self, identity: &str, rules: &[&str]) -> Self {
        self.rules
            .entry(identity.into())
            .or_default()
            .extend(rules.iter().map(|&rule| Box::from(rule)));
        self
    }

    fn allows(&self, identity: &str, method: &str) -> bool {
        self.rules.get(identity).is_some_and(|rules| {
            rules.iter().any(|rule| match rule.strip_suffix('*') {
                Some(prefix) => method.starts_with(prefix),
                None => **rule == *method,
            })
        })
    }
}

impl CallLayer for AccessControl {
    fn before(&self, call: &Call<'_>) -> Result<(), ErrorObject> {
        let identity = call.context().get::<Identity>();
        match identity {
            Some(identity) if self.allows(identity.name(), call.method()) => Ok(()),
            _ => Err(ErrorObject::new(FORBIDDEN, "Forbidden")
                .with_data(json!({"method": call.method()}))),
        }
    }
}

/// A token bucket per method: `burst` calls at once, then one more every `every`. A call past
/// the limit is answered [`RATE_LIMITED`], with the wait before the next token as data.
#[derive(Debug, Default)]
pub struct RateLimit {
    buckets: HashMap<Box<str>, Mutex<Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    burst: u32,
    every: Duration,
    tokens: u32,
    /// When the last token was added (or the bucket was made).
    refilled: Instant,
}

impl RateLimit {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Limits `method` to `burst` calls at once, and one more every `every`.
    #[must_use]
    pub fn limit(mut self, method: &str, burst: u32, every: Duration) -> Self {
        let bucket = Bucket {
            burst,
            every,
            tokens: burst,
            refilled: Instant::now(),
        };
        self.buckets.insert(method.into(), Mutex::new(bucket));
        self
    }
}

impl Bucket {
    /// Takes a token, or says how long until there is one.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let every = self.every.max(Duration::from_micros(1));
        let gained = now.duration_since(self.refilled).as_nanos() / every.as_nanos();
        if gained > 0 {
            let gained = u32::try_from(gained).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(gained).min(self.burst);
            self.refilled += every * gained.min(self.burst.max(1));
            if self.tokens == self.burst {
                self.refilled = now;
            }
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            return Ok(());
        }
        Err((self.refilled + every).saturating_duration_since(now))
    }
}

impl CallLayer for RateLimit {
    fn before(&self, call: &Call<'_>) -> Result<(), ErrorObject> {
        let Some(bucket) = self.buckets.get(call.method()) else {
            return Ok(());
        };
        // A poisoned lock only means another call panicked while holding it: the bucket's
        // numbers are still numbers.
        let mut bucket = bucket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        bucket.take(Instant::now()).map_err(|wait| {
            let retry_after_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
            ErrorObject::new(RATE_LIMITED, "Too many requests")
                .with_data(json!({"retry_after_ms": retry_after_ms}))
        })
    }
}

/// One `tracing` event per call, at info level, target `rpc_calls`: the method, the id (or
/// `notification`), the caller's identity, the request's `X-Request-Id`, the outcome (`ok`
/// or the error code) and the duration in microseconds.
#[derive(Debug, Default)]
pub struct CallLog;

impl CallLayer for CallLog {
    fn after(&self, call: &Call<'_>, outcome: Outcome<'_>) {
        let context = call.context();
        let request_id = context
            .get::<HeaderMap>()
            .and_then(|headers| headers.get("x-request-id"))
            .and_then(|value| value.to_str().ok())
            .unwrap_or("-");
        let identity = context.get::<Identity>().map_or("-", Identity::name);
        let id = call
            .id()
            .map_or_else(|| "notification".to_owned(), ToString::to_string);
        let micros = u64::try_from(call.elapsed().as_micros()).unwrap_or(u64::MAX);
        match outcome.error_code() {
            None => tracing::info!(
                target: "rpc_calls",
                method = call.method(),
                id,
                identity,
                request_id,
                outcome = "ok",
                micros,
            ),
            Some(code) => tracing::info!(
                target: "rpc_calls",
                method = call.method(),
                id,
                identity,
                request_id,
                outcome = "error",
                code,
                micros,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_one_token_each_period() {
        let start = Instant::now();
        let mut bucket = Bucket {
            burst: 2,
            every: Duration::from_millis(100),
            tokens: 2,
            refilled: start,
        };
        assert!(bucket.take(start).is_ok());
        assert!(bucket.take(start).is_ok());
        assert_eq!(bucket.take(start), Err(Duration::from_millis(100)));
        let later = start + Duration::from_millis(30);
        assert_eq!(bucket.take(later), Err(Duration::from_millis(70)));
        let refilled = start + Duration::from_millis(100);
        assert!(bucket.take(refilled).is_ok());
        assert!(bucket.take(refilled).is_err());
        // A long pause refills to the burst, no further.
        let much_later = start + Duration::from_secs(60);
        assert!(bucket.take(much_later).is_ok());
        assert!(bucket.take(much_later).is_ok());
        assert!(bucket.take(much_later).is_err());
    }

    #[test]
    fn rules_name_methods_or_prefixes() {
        let rules = AccessControl::new()
            .allow("alice", &["kv.*"])
            .allow("bob", &["kv.get", "kv.list"]);
        assert!(rules.allows("alice", "kv.set"));
        assert!(rules.allows("bob", "kv.get"));
        assert!(!rules.allows("bob", "kv.set"));
        assert!(!rules.allows("bob", "kv.getter"));
        assert!(!rules.allows("eve", "kv.get"));
    }
}
