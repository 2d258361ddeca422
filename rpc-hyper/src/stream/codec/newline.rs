//! Newline-delimited JSON: one message per line, ended by `\n` (or `\r\n`); blank lines are
//! skipped. A line over the limit is dropped as it comes, never held whole, and the next line
//! is read as usual.

use bytes::{Buf, BytesMut};

use super::{is_space, Frame};

/// The newline decoder.
#[derive(Debug)]
pub(crate) struct Newline {
    max: usize,
    /// How much of the buffer is known to hold no `\n`.
    scanned: usize,
    /// The line being read is over the limit: its bytes are dropped up to its end.
    discarding: bool,
}

impl Newline {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            scanned: 0,
            discarding: false,
        }
    }

    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        loop {
            let Some(at) = buf[self.scanned..].iter().position(|&b| b == b'\n') else {
                if self.discarding {
                    buf.clear();
                    self.scanned = 0;
                } else if buf.len() > self.max.saturating_add(1) {
                    // Longer than any message may be (`\r` aside), and not ended yet.
                    self.discarding = true;
                    buf.clear();
                    self.scanned = 0;
                } else {
                    self.scanned = buf.len();
                }
                return None;
            };
            let end = self.scanned + at;
            self.scanned = 0;
            if std::mem::take(&mut self.discarding) {
                buf.advance(end + 1);
                return Some(Frame::TooLarge);
            }
            let line = buf.split_to(end + 1).freeze();
            if let Some(frame) = self.line(line) {
                return Some(frame);
            }
        }
    }

    /// At the end of the stream: a last line without its `\n` is a line all the same.
    pub(crate) fn decode_eof(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        if let Some(frame) = self.decode(buf) {
            return Some(frame);
        }
        self.scanned = 0;
        if std::mem::take(&mut self.discarding) {
            buf.clear();
            return Some(Frame::TooLarge);
        }
        let line = buf.split().freeze();
        self.line(line)
    }

    /// A line's message, without its line end; nothing for a blank line.
    fn line(&self, line: bytes::Bytes) -> Option<Frame> {
        // The line end: `\n`, or `\r\n`.
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        // The size first: whether a line is too large cannot depend on how it was read.
        if text.len() > self.max {
            return Some(Frame::TooLarge);
        }
        if text.iter().all(|&b| is_space(b)) {
            return None;
        }
        Some(Frame::Message(line.slice(..text.len())))
    }
}

#[cfg(test)]
mod tests {
    use crate::stream::codec::{message, Found};
    use crate::stream::Framing;

    /// Feeds `input` in pieces of `step` bytes, then ends the stream; every frame found.
    fn frames(max: usize, input: &[u8], step: usize) -> Vec<Found> {
        crate::stream::codec::in_pieces(Framing::Newline, max, input, step)
    }

    #[test]
    fn each_line_is_a_message_whatever_the_reads() {
        let input = b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n[1,2]";
        for step in [1, 2, 3, 7, 64] {
            assert_eq!(
                frames(100, input, step),
                [message("{\"a\":1}"), message("{\"b\":2}"), message("[1,2]")],
                "in pieces of {step}"
            );
        }
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_the_next_is_read() {
        let mut input = vec![b'x'; 1000];
        input.extend_from_slice(b"\n{\"ok\":true}\n");
        input.extend_from_slice(&[b'y'; 13]);
        input.extend_from_slice(b"\n");
        for step in [1, 5, 100, 4096] {
            assert_eq!(
                frames(12, &input, step),
                [Found::TooLarge, message("{\"ok\":true}"), Found::TooLarge],
                "in pieces of {step}"
            );
        }
    }

    #[test]
    fn a_line_of_exactly_the_limit_passes() {
        assert_eq!(frames(5, b"12345\r\n", 1), [message("12345")]);
        assert_eq!(frames(5, b"123456\n", 1), [Found::TooLarge]);
    }

    #[test]
    fn a_long_line_cut_off_by_the_end_is_too_large() {
        assert_eq!(frames(4, b"123456789", 2), [Found::TooLarge]);
    }

    #[test]
    fn invalid_utf8_is_passed_on_for_the_dispatcher_to_refuse() {
        assert_eq!(
            frames(100, b"\xff\xfe\n", 1),
            [Found::Message(b"\xff\xfe".to_vec())]
        );
    }
}
