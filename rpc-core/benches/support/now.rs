//! Drives a dispatch to completion on the spot, with no runtime: every method in the benchmarks
//! and the allocation test is sync, so the first poll finishes it.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The output of a future that completes on its first poll.
pub(crate) fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("sync methods never wait"),
    }
}
