//! The liveness rules of a connection, as counts of the ticks it was quiet for.

use std::time::Duration;

use super::{Ending, Liveness};

/// How often a connection that is never closed for quietness gives back a burst's memory.
const SHRINK_EVERY: Duration = Duration::from_secs(30);

/// The liveness rules as counts of quiet ticks.
pub(super) struct Quiet {
    pub(super) period: Duration,
    /// At this many quiet ticks in a row, the peer is pinged.
    pub(super) ping_at: Option<u32>,
    /// At this many, the connection is closed.
    pub(super) close_at: u32,
    pub(super) ending: Ending,
    /// Whether a live subscription keeps the connection from being quiet.
    pub(super) subscriptions_count: bool,
}

impl Quiet {
    pub(super) fn new(liveness: Liveness) -> Self {
        let min = Duration::from_millis(10);
        match liveness {
            Liveness::Ping(interval) => Self {
                period: interval.max(min),
                ping_at: Some(1),
                close_at: 2,
                ending: Ending::NoPong,
                subscriptions_count: false,
            },
            // Four ticks per timeout: closed between 1 and 1¼ times it after the last sign.
            Liveness::Idle(timeout) => Self {
                period: (timeout / 4).max(min),
                ping_at: None,
                close_at: 4,
                ending: Ending::Idle,
                subscriptions_count: true,
            },
            Liveness::Forever => Self {
                period: SHRINK_EVERY,
                ping_at: None,
                close_at: u32::MAX,
                ending: Ending::Idle,
                subscriptions_count: true,
            },
        }
    }
}
