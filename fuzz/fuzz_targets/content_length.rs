//! The `Content-Length` framing's decoder: the checks of `framing.rs` (a header part of at
//! most 8 KiB is what a message's framing adds).
#![no_main]

mod framing;

use libfuzzer_sys::fuzz_target;
use rpc_hyper::stream::Framing;

fuzz_target!(|data: &[u8]| {
    framing::check(Framing::ContentLength, data, 8 * 1024 + 4);
});
