//! Concatenated JSON values with no delimiter, as geth's and reth's IPC speak: `{..}{..}`,
//! whitespace (newlines included) between values allowed, values split across reads.
//!
//! A streaming scan finds where each object or array ends: it follows strings (and their
//! escapes) and counts brackets, one pass over each byte however the value arrives; validating
//! the JSON is left to the dispatcher. Newline-delimited input is read as well, so a listener
//! takes both. Bytes outside any value are skipped up to the next value or line, answered once
//! as a parse error; a value over the limit is dropped as it comes (its end is still found by
//! the scan), answered as too large, and the next value is read as usual.

use bytes::{Buf, BytesMut};

use super::{is_space, Frame};

/// Where the scan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between values.
    Between,
    /// Inside a value, `depth` brackets deep.
    Value {
        depth: usize,
        string: bool,
        escape: bool,
    },
    /// Inside bytes that are no value.
    Garbage,
}

/// Whether the decoder looks for a newline-delimited peer, and where it is in looking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Detect {
    /// It does not look, or it has looked.
    Off,
    /// Until the first value ends.
    Waiting,
    /// The first value has ended: a line end right after it tells a newline-delimited peer.
    Next,
}

/// The concatenated-values decoder.
#[derive(Debug)]
pub(crate) struct Concatenated {
    max: usize,
    state: State,
    detect: Detect,
    /// A line end came right after the first value: the peer is newline-delimited.
    lines: bool,
    /// How much of the buffer the scan has passed.
    scanned: usize,
    /// The value being read is over the limit: its bytes are dropped as they are scanned.
    discarding: bool,
    /// Bytes scanned in all, for the test that the scan is linear.
    #[cfg(test)]
    work: usize,
}

impl Concatenated {
    pub(crate) fn new(max: usize) -> Self {
        Self::with_detect(max, Detect::Off)
    }

    /// A decoder that tells, by the byte after the first value, a newline-delimited peer
    /// ([`Concatenated::is_lines`]): for [`Framing::Auto`](crate::stream::Framing::Auto).
    pub(crate) fn detecting(max: usize) -> Self {
        Self::with_detect(max, Detect::Waiting)
    }

    fn with_detect(max: usize, detect: Detect) -> Self {
        Self {
            max,
            state: State::Between,
            detect,
            lines: false,
            scanned: 0,
            discarding: false,
            #[cfg(test)]
            work: 0,
        }
    }

    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        while self.scanned < buf.len() {
            let byte = buf[self.scanned];
            self.scanned += 1;
            #[cfg(test)]
            {
                self.work += 1;
            }
            match self.state {
                State::Between => {
                    if self.detect == Detect::Next {
                        if byte == b'\n' || byte == b'\r' {
                            // Left in the buffer, for the newline decoder that takes over.
                            self.scanned -= 1;
                            self.lines = true;
                            self.detect = Detect::Off;
                            return None;
                        }
                        self.detect = Detect::Off;
                    }
                    if is_space(byte) {
                        // Nothing before a value is kept.
                        buf.advance(self.scanned);
                        self.scanned = 0;
                    } else if byte == b'{' || byte == b'[' {
                        // The value begins the buffer.
                        buf.advance(self.scanned - 1);
                        self.scanned = 1;
                        self.state = State::Value {
                            depth: 1,
                            string: false,
                            escape: false,
                        };
                    } else {
                        self.state = State::Garbage;
                    }
                }
                State::Value {
                    mut depth,
                    mut string,
                    mut escape,
                } => {
                    if string {
                        if escape {
                            escape = false;
                        } else if byte == b'\\' {
                            escape = true;
                        } else if byte == b'"' {
                            string = false;
                        }
                    } else {
                        match byte {
                            b'"' => string = true,
                            b'{' | b'[' => depth = depth.saturating_add(1),
                            b'}' | b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    return Some(self.end_value(buf));
                                }
                            }
                            _ => {}
                        }
                    }
                    self.state = State::Value {
                        depth,
                        string,
                        escape,
                    };
                    if self.discarding || self.scanned > self.max {
                        self.discarding = true;
                        buf.advance(self.scanned);
                        self.scanned = 0;
                    }
                }
                State::Garbage => {
                    if byte == b'\n' || byte == b'{' || byte == b'[' {
                        // The next value (or line) begins here: it is scanned again as such.
                        let end = if byte == b'\n' {
                            self.scanned
                        } else {
                            self.scanned - 1
                        };
                        buf.advance(end);
                        self.scanned = 0;
                        self.state = State::Between;
                        return Some(Frame::Garbage);
                    }
                    // Garbage is not kept, only its end looked for.
                    buf.advance(self.scanned);
                    self.scanned = 0;
                }
            }
        }
        None
    }

    /// Whether a line end came right after the first value (when detecting): the rest of the
    /// stream is newline-delimited, and the buffer begins with that line end.
    pub(crate) fn is_lines(&self) -> bool {
        self.lines
    }

    /// The frame for a value that ends at the scan.
    fn end_value(&mut self, buf: &mut BytesMut) -> Frame {
        self.state = State::Between;
        if self.detect == Detect::Waiting {
            self.detect = Detect::Next;
        }
        let len = std::mem::take(&mut self.scanned);
        // Over the limit by its last byte, the closing bracket, it was never discarded.
        if std::mem::take(&mut self.discarding) || len > self.max {
            buf.advance(len);
            return Frame::TooLarge;
        }
        Frame::Message(buf.split_to(len).freeze())
    }

    /// At the end of the stream: garbage is answered; a value cut off is dropped (its peer is
    /// gone), and so is one over the limit.
    pub(crate) fn decode_eof(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        if let Some(frame) = self.decode(buf) {
            return Some(frame);
        }
        let state = std::mem::replace(&mut self.state, State::Between);
        self.scanned = 0;
        self.discarding = false;
        let cut = !buf.is_empty();
        buf.clear();
        match state {
            State::Garbage => Some(Frame::Garbage),
            State::Value { .. } => {
                tracing::debug!(cut, "a stream ended inside a message");
                None
            }
            State::Between => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stream::codec::{message, Found};
    use crate::stream::Framing;

    /// Feeds `input` in pieces of `step` bytes, then ends the stream; every frame found.
    /// A message's frame, as the decoder gives it.
    fn frame(text: &str) -> Frame {
        Frame::Message(bytes::Bytes::copy_from_slice(text.as_bytes()))
    }

    fn frames(max: usize, input: &[u8], step: usize) -> Vec<Found> {
        crate::stream::codec::in_pieces(Framing::Concatenated, max, input, step)
    }

    #[test]
    fn values_are_found_with_no_delimiter_whatever_the_reads() {
        let input = br#"{"a":"}{[\"\\"}[1,{"b":[]}]  {"c":"x\\"}
{"d":1}"#;
        for step in [1, 2, 3, 7, 4096] {
            assert_eq!(
                frames(100, input, step),
                [
                    message(r#"{"a":"}{[\"\\"}"#),
                    message(r#"[1,{"b":[]}]"#),
                    message(r#"{"c":"x\\"}"#),
                    message(r#"{"d":1}"#),
                ],
                "in pieces of {step}"
            );
        }
    }

    #[test]
    fn garbage_is_skipped_up_to_the_next_value_or_line() {
        let input = b"hello {\"a\":1}\x00\xff\n[2] 42\n";
        for step in [1, 4096] {
            assert_eq!(
                frames(100, input, step),
                [
                    Found::Garbage,
                    message("{\"a\":1}"),
                    Found::Garbage,
                    message("[2]"),
                    Found::Garbage,
                ],
                "in pieces of {step}"
            );
        }
        assert_eq!(frames(100, b"tail", 1), [Found::Garbage]);
    }

    #[test]
    fn a_value_over_the_limit_is_dropped_as_it_comes_and_the_next_is_read() {
        let mut input = b"{\"big\":\"".to_vec();
        input.extend(std::iter::repeat_n(b'}', 10_000));
        input.extend_from_slice(b"\"}{\"ok\":1}");
        for step in [1, 10, 4096] {
            assert_eq!(
                frames(64, &input, step),
                [Found::TooLarge, message("{\"ok\":1}")],
                "in pieces of {step}"
            );
        }
    }

    #[test]
    fn a_value_one_byte_over_the_limit_by_its_closing_bracket_is_too_large() {
        // Found by the fuzz target: the limit was checked after each byte but the last.
        assert_eq!(frames(8, br#"{"a":123}"#, 4096), [Found::TooLarge]);
        assert_eq!(frames(9, br#"{"a":123}"#, 4096), [message(r#"{"a":123}"#)]);
    }

    #[test]
    fn detecting_a_line_end_after_the_first_value_tells_a_newline_peer() {
        for input in [&b"{\"a\":1}\n{\"b\""[..], b"{\"a\":1}\r\n"] {
            let mut codec = Concatenated::detecting(100);
            let mut buf = BytesMut::from(input);
            assert_eq!(codec.decode(&mut buf), Some(frame("{\"a\":1}")));
            assert!(!codec.is_lines());
            assert_eq!(codec.decode(&mut buf), None);
            assert!(codec.is_lines());
            assert!(
                buf.starts_with(b"\n") || buf.starts_with(b"\r\n"),
                "{buf:?}"
            );
        }
        // Anything else after the first value: concatenated for good.
        let mut codec = Concatenated::detecting(100);
        let mut buf = BytesMut::from(&b"{\"a\":1} {\"b\":2}\n"[..]);
        assert_eq!(codec.decode(&mut buf), Some(frame("{\"a\":1}")));
        assert_eq!(codec.decode(&mut buf), Some(frame("{\"b\":2}")));
        assert_eq!(codec.decode(&mut buf), None);
        assert!(!codec.is_lines());
        // Not detecting: never.
        let mut codec = Concatenated::new(100);
        let mut buf = BytesMut::from(&b"{}\n"[..]);
        assert_eq!(codec.decode(&mut buf), Some(frame("{}")));
        assert_eq!(codec.decode(&mut buf), None);
        assert!(!codec.is_lines());
    }

    #[test]
    fn deep_nesting_is_only_a_count() {
        let mut input = vec![b'['; 100_000];
        input.extend(vec![b']'; 100_000]);
        assert_eq!(
            frames(1 << 20, &input, 4096),
            [Found::Message(input.clone())]
        );
    }

    #[test]
    fn a_value_cut_off_by_the_end_is_dropped() {
        assert_eq!(frames(100, b"{\"a\":1}{\"b\":", 3), [message("{\"a\":1}")]);
    }

    #[test]
    fn the_scan_is_linear() {
        // One long value in 1-byte reads, then many small ones: each byte is scanned once.
        let mut codec = Concatenated::new(usize::MAX);
        let mut buf = BytesMut::new();
        let mut input = format!("{{\"a\":\"{}\"}}", "x".repeat(200_000));
        input.push_str(&"{}".repeat(1000));
        let mut found = 0;
        for &byte in input.as_bytes() {
            buf.extend_from_slice(&[byte]);
            found += usize::from(codec.decode(&mut buf).is_some());
        }
        assert_eq!(found, 1001);
        assert_eq!(codec.work, input.len());
    }
}
