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

/// The concatenated-values decoder.
#[derive(Debug)]
pub(crate) struct Concatenated {
    max: usize,
    state: State,
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
        Self {
            max,
            state: State::Between,
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

    /// The frame for a value that ends at the scan.
    fn end_value(&mut self, buf: &mut BytesMut) -> Frame {
        self.state = State::Between;
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

    fn frames(max: usize, input: &[u8], step: usize) -> Vec<Frame> {
        let mut codec = Concatenated::new(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            buf.extend_from_slice(piece);
            while let Some(frame) = codec.decode(&mut buf) {
                out.push(frame);
            }
            assert!(buf.len() <= max + step, "held {} bytes", buf.len());
        }
        while let Some(frame) = codec.decode_eof(&mut buf) {
            out.push(frame);
        }
        out
    }

    fn message(text: &str) -> Frame {
        Frame::Message(bytes::Bytes::copy_from_slice(text.as_bytes()))
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
                    Frame::Garbage,
                    message("{\"a\":1}"),
                    Frame::Garbage,
                    message("[2]"),
                    Frame::Garbage,
                ],
                "in pieces of {step}"
            );
        }
        assert_eq!(frames(100, b"tail", 1), [Frame::Garbage]);
    }

    #[test]
    fn a_value_over_the_limit_is_dropped_as_it_comes_and_the_next_is_read() {
        let mut input = b"{\"big\":\"".to_vec();
        input.extend(std::iter::repeat_n(b'}', 10_000));
        input.extend_from_slice(b"\"}{\"ok\":1}");
        for step in [1, 10, 4096] {
            assert_eq!(
                frames(64, &input, step),
                [Frame::TooLarge, message("{\"ok\":1}")],
                "in pieces of {step}"
            );
        }
    }

    #[test]
    fn a_value_one_byte_over_the_limit_by_its_closing_bracket_is_too_large() {
        // Found by the fuzz target: the limit was checked after each byte but the last.
        assert_eq!(frames(8, br#"{"a":123}"#, 4096), [Frame::TooLarge]);
        assert_eq!(frames(9, br#"{"a":123}"#, 4096), [message(r#"{"a":123}"#)]);
    }

    #[test]
    fn deep_nesting_is_only_a_count() {
        let mut input = vec![b'['; 100_000];
        input.extend(vec![b']'; 100_000]);
        assert_eq!(
            frames(1 << 20, &input, 4096),
            [Frame::Message(bytes::Bytes::from(input.clone()))]
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
