//! The checks every framing's decoder must pass, whatever the bytes: no panic; the same
//! frames however the bytes are cut into reads; never more held than one message's worth;
//! every message within the limit.

use rpc_hyper::stream::__fuzz::{frames, Found};
use rpc_hyper::stream::Framing;

/// The message limit the targets use: small, so that the too-large paths are reached.
pub const MAX: usize = 64;

/// Checks `data`: two bytes of cut points (each a fraction of the input), then the input. `header`: the most a message's framing adds.
pub fn check(framing: Framing, data: &[u8], header: usize) -> Vec<Vec<u8>> {
    let [a, b, input @ ..] = data else {
        return Vec::new();
    };
    let cut = |byte: u8| input.len() * usize::from(byte) / 255;
    let (whole, _) = frames(framing, MAX, input, &[]);
    let mut cuts = vec![cut(*a), cut(*b)];
    let (pieces, held) = frames(framing, MAX, input, &cuts);
    assert_eq!(whole, pieces, "the frames depend on the reads");
    // One byte at a time, for short inputs.
    if input.len() <= 512 {
        cuts = (0..input.len()).collect();
        let (bytewise, held) = frames(framing, MAX, input, &cuts);
        assert_eq!(
            whole, bytewise,
            "the frames depend on the reads, byte by byte"
        );
        // A piece of one byte: at most a message, its header, and the byte held.
        assert!(held <= MAX + header + 2, "held {held} bytes");
    }
    let (first, second) = (cut(*a).min(cut(*b)), cut(*a).max(cut(*b)));
    let piece = first.max(second - first).max(input.len() - second);
    assert!(held <= MAX + header + piece + 2, "held {held} bytes");
    for found in &whole {
        if let Found::Message(message) = found {
            assert!(message.len() <= MAX, "a message of {} bytes", message.len());
        }
    }
    if let Some(at) = whole.iter().position(|found| *found == Found::Broken) {
        assert_eq!(at, whole.len() - 1, "nothing after the stream broke");
    }
    // The messages, for the target's own checks.
    whole
        .into_iter()
        .filter_map(|found| match found {
            Found::Message(message) => Some(message),
            _ => None,
        })
        .collect()
}
