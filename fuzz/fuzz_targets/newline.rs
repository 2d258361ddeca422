//! The newline framing's decoder: the checks of `framing.rs`, and no message holds a line
//! end or is blank (JSON's whitespace only).
#![no_main]

mod framing;

use libfuzzer_sys::fuzz_target;
use rpc_hyper::stream::Framing;

fuzz_target!(|data: &[u8]| {
    for message in framing::check(Framing::Newline, data, 0) {
        assert!(!message.contains(&b'\n'), "a line end in a message");
        assert!(
            !message
                .iter()
                .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')),
            "a blank line as a message"
        );
    }
});
