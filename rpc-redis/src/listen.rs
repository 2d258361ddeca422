//! The listener task: the channel's messages, fanned out to this instance's subscribers.

use std::sync::Arc;

use futures_util::StreamExt;
use serde::Serialize;

use super::{Shared, FIRST_BACKOFF, LAST_BACKOFF};

/// Listens on the channel for as long as the feed lives, connecting again whenever the link
/// to Redis goes.
pub(super) async fn listen<T: ?Sized + Serialize>(shared: Arc<Shared<T>>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let connecting = async {
            let mut pubsub = shared.client.get_async_pubsub().await?;
            pubsub.subscribe(&shared.channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let why = match tokio::time::timeout(shared.options.connect_timeout, connecting).await {
            Ok(Ok(pubsub)) => {
                shared.listening(true, "");
                backoff = FIRST_BACKOFF;
                let (mut control, mut messages) = pubsub.split();
                // A link that goes half-open (a network cut) never ends the stream: a ping
                // each period, answered in time, says it is still there.
                let mut pings = tokio::time::interval(shared.options.ping_interval);
                pings.tick().await;
                loop {
                    tokio::select! {
                        message = messages.next() => match message {
                            Some(message) => shared.deliver(message.get_payload_bytes()),
                            None => break "the connection closed".to_owned(),
                        },
                        _ = pings.tick() => {
                            let ping = control.ping::<redis::Value>();
                            let answered = tokio::time::timeout(shared.options.connect_timeout, ping).await;
                            if !matches!(answered, Ok(Ok(_))) {
                                break "Redis did not answer a ping".to_owned();
                            }
                        }
                    }
                }
            }
            Ok(Err(err)) => err.to_string(),
            Err(_) => "connecting timed out".to_owned(),
        };
        shared.listening(false, &why);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(LAST_BACKOFF);
    }
}
