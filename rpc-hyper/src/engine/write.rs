//! Writing through a transport: answers and notifications, each write within the send
//! timeout, and what a stalled write means.

use std::future::poll_fn;
use std::io;
use std::time::Duration;

use rpc_core::Note;

use super::{Ending, Out, Transport};

/// Why writing stopped.
pub(super) enum Stop {
    /// The connection broke: nothing more can be said.
    Broken,
    /// The peer took nothing for the send timeout.
    Stalled,
}

impl Stop {
    /// How the connection ends.
    pub(super) fn ending(self) -> Ending {
        match self {
            Stop::Broken => Ending::Gone,
            Stop::Stalled => Ending::TooSlow("too slow to read"),
        }
    }
}

/// Waits for room, then queues `out`.
async fn feed_one<T: Transport>(transport: &mut T, out: Out<'_>) -> io::Result<()> {
    poll_fn(|cx| transport.poll_ready(cx)).await?;
    transport.start_send(out)
}

/// Writes out what is queued.
pub(super) async fn flush<T: Transport>(transport: &mut T) -> io::Result<()> {
    poll_fn(|cx| transport.poll_flush(cx)).await
}

/// Writes an answer and flushes; nothing is written for nothing to answer.
pub(super) async fn send<T: Transport>(
    transport: &mut T,
    answer: Option<Vec<u8>>,
    deadline: Duration,
) -> Result<(), Stop> {
    feed(transport, answer, deadline).await?;
    outcome(tokio::time::timeout(deadline, flush(transport)).await)
}

/// Queues an answer (written once the buffer fills, or at the next flush).
pub(super) async fn feed<T: Transport>(
    transport: &mut T,
    answer: Option<Vec<u8>>,
    deadline: Duration,
) -> Result<(), Stop> {
    let Some(answer) = answer else { return Ok(()) };
    let queued = feed_one(transport, Out::Answer(&answer));
    outcome(tokio::time::timeout(deadline, queued).await)
}

/// Writes the notifications taken from the outbox, one message each, and flushes once.
pub(super) async fn write_notes<T: Transport>(
    transport: &mut T,
    notes: &mut Vec<Note>,
    deadline: Duration,
) -> Result<(), Stop> {
    let writing = async {
        for note in notes.drain(..) {
            feed_one(transport, Out::Note(&note)).await?;
        }
        flush(transport).await
    };
    let written = tokio::time::timeout(deadline, writing).await;
    notes.clear();
    outcome(written)
}

/// Writes one message out, within `deadline`: a peer that takes nothing for that long (it
/// sends without reading, or is gone) is not waited for.
pub(super) async fn write<T: Transport>(
    transport: &mut T,
    out: Out<'_>,
    deadline: Duration,
) -> Result<(), Stop> {
    let writing = async {
        feed_one(transport, out).await?;
        flush(transport).await
    };
    outcome(tokio::time::timeout(deadline, writing).await)
}

/// What a write within its deadline came to.
pub(super) fn outcome(
    written: Result<io::Result<()>, tokio::time::error::Elapsed>,
) -> Result<(), Stop> {
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "writing to a connection failed");
            Err(Stop::Broken)
        }
        Err(_) => {
            tracing::debug!("a peer took nothing in time; disconnected");
            Err(Stop::Stalled)
        }
    }
}
