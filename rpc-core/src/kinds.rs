//! Several subscription kinds under one subscribe name, as Ethereum's `eth_subscribe` has
//! (`["newHeads"]`, `["logs", filter]`, `["newPendingTransactions"]`): each kind is its own
//! typed function, declared with `#[rpc_subscription(name = "eth_subscribe", kind = "logs")]`
//! ([`Method::kind`]). The first kind registered makes the subscribe method; its callback reads
//! the kind (the first positional param) and hands the rest of the params to that kind's.
//! So the group is an ordinary subscription to every transport and the dispatcher.

use std::borrow::Cow;
use std::sync::{Arc, PoisonError, RwLock};

use serde_json::value::RawValue;

use crate::boxed::BoxFuture;
use crate::method::{Callback, Method, SubscribeFn};
use crate::register::{Refusal, RegisterError};
use crate::subscription::SubscriptionInfo;
use crate::{Context, ErrorObject, Params, RawSink, Router};

/// One kind: its name, and its method's callback.
type Kind<S> = (Cow<'static, str>, Box<SubscribeFn<S>>);

/// The kinds of one subscribe name.
pub(crate) struct Kinds<S> {
    table: RwLock<Vec<Kind<S>>>,
}

impl<S: Send + Sync + 'static> Kinds<S> {
    /// Starts the kind the params name, with the params after the kind.
    fn subscribe<'a>(
        &self,
        state: &'a S,
        cx: &'a Context<'a>,
        params: Params<'_>,
        sink: RawSink,
    ) -> Result<BoxFuture<'a, ()>, ErrorObject> {
        let items: Vec<&RawValue> = params
            .raw()
            .filter(|raw| raw.starts_with('['))
            .and_then(|raw| serde_json::from_str(raw).ok())
            .unwrap_or_default();
        let Some((first, rest)) = items.split_first() else {
            return Err(ErrorObject::invalid_params(
                "the subscription's kind comes first: [\"KIND\", ...]",
            ));
        };
        let Ok(kind) = serde_json::from_str::<Cow<'_, str>>(first.get()) else {
            return Err(ErrorObject::invalid_params(
                "the subscription's kind is a string",
            ));
        };
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        let Some((_, subscribe)) = table.iter().find(|(known, _)| **known == *kind) else {
            let known: Vec<&str> = table.iter().map(|(known, _)| &**known).collect();
            return Err(ErrorObject::invalid_params(format!(
                "no subscription kind {:?}; the kinds are {known:?}",
                crate::error::params::shown(&kind)
            )));
        };
        let rest = if rest.is_empty() {
            None
        } else {
            let parts: Vec<&str> = rest.iter().map(|item| item.get()).collect();
            RawValue::from_string(format!("[{}]", parts.join(","))).ok()
        };
        let params = rest
            .as_deref()
            .and_then(Params::from_raw)
            .unwrap_or(Params::NONE);
        // A parameter's position counts the kind, as the caller wrote the call.
        subscribe(state, cx, params, sink).map_err(|error| error.params_after(1))
    }
}

/// Whether two kinds may share a subscribe name: the same notifications, unsubscribe method
/// and forms.
fn agree(a: &SubscriptionInfo, b: &SubscriptionInfo) -> bool {
    a.notification == b.notification
        && a.unsubscribe == b.unsubscribe
        && a.pending == b.pending
        && a.end_notice == b.end_notice
        && a.unknown_id_errors == b.unknown_id_errors
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Registers a subscription declared as one kind of its name's.
    pub(crate) fn register_kind(
        &mut self,
        method: Method<S>,
        kind: Cow<'static, str>,
    ) -> Result<&mut Self, RegisterError> {
        let name = method.info.name.clone();
        let (Some(info), Callback::Subscribe(subscribe)) =
            (method.info.subscription, method.callback)
        else {
            return Err(RegisterError::new(&name, Refusal::Kind));
        };
        if let Some(kinds) = self.kinds.get(&*name) {
            let fits = self
                .lookup(&name)
                .and_then(|group| group.info.subscription.as_ref())
                .is_some_and(|group| agree(group, &info));
            let mut table = kinds.table.write().unwrap_or_else(PoisonError::into_inner);
            if !fits || table.iter().any(|(known, _)| *known == kind) {
                return Err(RegisterError::new(&name, Refusal::Kind));
            }
            table.push((kind, subscribe));
            drop(table);
            return Ok(self);
        }
        let kinds = Arc::new(Kinds {
            table: RwLock::new(vec![(kind, subscribe)]),
        });
        let table = Arc::clone(&kinds);
        let mut group = Method::new_subscription(
            name.clone(),
            info.notification.clone(),
            info.unsubscribe.clone(),
            move |state, cx, params, sink| table.subscribe(state, cx, params, sink),
        )
        .doc("Subscribes to one of its kinds, named by the first param.");
        if let Some(group_info) = &mut group.info.subscription {
            group_info.pending = info.pending;
            group_info.end_notice = info.end_notice;
            group_info.unknown_id_errors = info.unknown_id_errors;
        }
        self.register(group)?;
        self.kinds.insert(name.into(), kinds);
        Ok(self)
    }
}
