//! The publisher task: the feed's items, one at a time, in order, on one connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use tokio::sync::{mpsc, oneshot};

use super::{PublishError, Shared, FIRST_BACKOFF, LAST_BACKOFF};

/// One item to publish, and who waits for the outcome, if anyone does.
pub(super) struct Job {
    pub(super) json: Vec<u8>,
    pub(super) done: Option<oneshot::Sender<Result<usize, PublishError>>>,
}

/// The publisher task's connection, and when to try again without one.
struct Publisher {
    connection: Option<MultiplexedConnection>,
    retry_at: Option<Instant>,
    backoff: Duration,
    /// Whether the loss of the connection has been logged.
    lost: bool,
}

/// Publishes the feed's items in order, for as long as the feed lives.
pub(super) async fn publish_all<T: ?Sized>(shared: Arc<Shared<T>>, mut jobs: mpsc::Receiver<Job>) {
    let mut publisher = Publisher {
        connection: None,
        retry_at: None,
        backoff: FIRST_BACKOFF,
        lost: false,
    };
    while let Some(job) = jobs.recv().await {
        let outcome = publisher.publish(&shared, job.json).await;
        if let Some(done) = job.done {
            let _ = done.send(outcome);
        }
    }
}

impl Publisher {
    /// Publishes one item, connecting first if need be and the backoff allows.
    async fn publish<T: ?Sized>(
        &mut self,
        shared: &Shared<T>,
        json: Vec<u8>,
    ) -> Result<usize, PublishError> {
        let mut connection = self.connection(shared).await?;
        let published = connection.publish::<_, _, usize>(&shared.channel, json);
        match tokio::time::timeout(shared.options.publish_timeout, published).await {
            Ok(Ok(instances)) => {
                if self.lost {
                    tracing::info!(channel = %shared.channel, "publishing to Redis again");
                    self.lost = false;
                }
                Ok(instances)
            }
            Ok(Err(err)) => {
                // The link is gone: connect again (after the backoff). A refusal of Redis's
                // own (read-only after a failover, out of memory) leaves the link as it is.
                if err.is_io_error() || err.is_connection_dropped() || err.is_unrecoverable_error()
                {
                    self.drop_connection(shared, &err.to_string());
                } else {
                    self.lose(shared, &err.to_string());
                }
                Err(PublishError::Unavailable(err.to_string()))
            }
            Err(_) => {
                // No answer: the link may be half-open (a network cut); start over.
                self.drop_connection(shared, "Redis did not answer in time");
                Err(PublishError::TimedOut)
            }
        }
    }

    /// Forgets the connection; the next item connects again once the backoff allows.
    fn drop_connection<T: ?Sized>(&mut self, shared: &Shared<T>, why: &str) {
        self.connection = None;
        self.lose(shared, why);
        self.retry_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(LAST_BACKOFF);
    }

    /// The connection, made if there is none and the backoff allows.
    async fn connection<T: ?Sized>(
        &mut self,
        shared: &Shared<T>,
    ) -> Result<MultiplexedConnection, PublishError> {
        if let Some(connection) = &self.connection {
            return Ok(connection.clone());
        }
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return Err(PublishError::Unavailable("reconnecting".into()));
        }
        let connecting = shared.client.get_multiplexed_async_connection();
        let why = match tokio::time::timeout(shared.options.connect_timeout, connecting).await {
            Ok(Ok(connection)) => {
                // `lost` stays until an item is published: logged once an outage.
                self.connection = Some(connection.clone());
                self.retry_at = None;
                self.backoff = FIRST_BACKOFF;
                return Ok(connection);
            }
            Ok(Err(err)) => err.to_string(),
            Err(_) => "connecting timed out".to_owned(),
        };
        self.lose(shared, &why);
        self.retry_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(LAST_BACKOFF);
        Err(PublishError::Unavailable(why))
    }

    /// Redis is lost for publishing: logged once an outage.
    fn lose<T: ?Sized>(&mut self, shared: &Shared<T>, why: &str) {
        if !self.lost {
            tracing::warn!(channel = %shared.channel, error = %why, "cannot publish to Redis; items are lost until it is back");
        }
        self.lost = true;
    }
}
