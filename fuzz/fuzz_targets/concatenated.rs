//! The concatenated framing's decoder: the checks of `framing.rs`, and each message is one
//! object or array, from its opening bracket to its closing one. And the auto framing's,
//! which begins as it (and may turn newline-delimited): the checks of `framing.rs`.
#![no_main]

mod framing;

use libfuzzer_sys::fuzz_target;
use rpc_hyper::stream::Framing;

fuzz_target!(|data: &[u8]| {
    framing::check(Framing::Auto, data, 0);
    for message in framing::check(Framing::Concatenated, data, 0) {
        assert!(matches!(message.first(), Some(b'{' | b'[')), "{message:?}");
        assert!(matches!(message.last(), Some(b'}' | b']')), "{message:?}");
    }
});
