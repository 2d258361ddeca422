//! `Content-Length` framing, the LSP base protocol's: a header part of `Name: value` lines
//! (`Content-Length: N` required, `Content-Type` optional), each ended by `\r\n`, an empty line,
//! then exactly N bytes of content. Header names are case-insensitive; other headers are
//! passed over. Nothing in this framing tells where a message begins but the one before it,
//! so a header that cannot be read, or a length over the limit, ends the connection.

use bytes::{Buf, BytesMut};

use super::{Frame, FramingError};

/// The longest header part taken: LSP's has two short lines.
const MAX_HEADER: usize = 8 * 1024;

/// How much of a message's content is made room for at once: a declared length is not
/// allocated before its bytes come.
const RESERVE_AT_ONCE: usize = 64 * 1024;

/// The `Content-Length` decoder.
#[derive(Debug)]
pub(crate) struct ContentLength {
    max: usize,
    /// The content length of the message being read, once its header part is read.
    body: Option<usize>,
    /// How much of the header part is known to hold no `\r\n\r\n`.
    scanned: usize,
}

impl ContentLength {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            body: None,
            scanned: 0,
        }
    }

    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        let len = match self.body {
            Some(len) => len,
            None => {
                // Resume three bytes back: the end may have begun in the last read.
                let from = self.scanned.saturating_sub(3);
                let Some(at) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") else {
                    // Past the limit even if the end began in the last three bytes.
                    if buf.len() > MAX_HEADER + 3 {
                        return Err(FramingError::Broken("a header part over 8 KiB"));
                    }
                    self.scanned = buf.len();
                    return Ok(None);
                };
                let end = from + at;
                if end > MAX_HEADER {
                    return Err(FramingError::Broken("a header part over 8 KiB"));
                }
                let len = content_length(&buf[..end], self.max)?;
                buf.advance(end + 4);
                self.scanned = 0;
                self.body = Some(len);
                len
            }
        };
        if buf.len() < len {
            buf.reserve((len - buf.len()).min(RESERVE_AT_ONCE));
            return Ok(None);
        }
        self.body = None;
        Ok(Some(Frame::Message(buf.split_to(len).freeze())))
    }

    /// At the end of the stream: a message cut off is dropped (the peer is gone).
    pub(crate) fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        let frame = self.decode(buf)?;
        if frame.is_none() {
            if !buf.is_empty() {
                tracing::debug!(bytes = buf.len(), "a stream ended inside a message");
                buf.clear();
            }
            // A stream may go on after its end (a terminal after ^D): it starts afresh.
            self.body = None;
            self.scanned = 0;
        }
        Ok(frame)
    }
}

/// The content length a header part declares, checked against `max`.
fn content_length(header: &[u8], max: usize) -> Result<usize, FramingError> {
    let header = std::str::from_utf8(header)
        .map_err(|_| FramingError::Broken("a header part that is not UTF-8"))?;
    let mut length = None;
    for line in header.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            return Err(FramingError::Broken("a header line without a colon"));
        };
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("content-length") {
            if !value.bytes().all(|b| b.is_ascii_digit()) || value.is_empty() {
                return Err(FramingError::Broken(
                    "a Content-Length that is not a number",
                ));
            }
            // Digits only: too many of them is too large, not malformed.
            let len = value.parse::<usize>().unwrap_or(usize::MAX);
            if length.is_some_and(|seen| seen != len) {
                return Err(FramingError::Broken("two different Content-Length headers"));
            }
            if len > max {
                return Err(FramingError::TooLarge);
            }
            length = Some(len);
        } else if name.eq_ignore_ascii_case("content-type") && !is_utf8(value) {
            return Err(FramingError::Broken("a charset other than UTF-8"));
        }
    }
    length.ok_or(FramingError::Broken("no Content-Length header"))
}

/// Whether a `Content-Type` allows UTF-8 content: no charset (UTF-8 by default), or `utf-8`
/// (the LSP's older clients write `utf8`).
fn is_utf8(content_type: &str) -> bool {
    content_type.split(';').skip(1).all(|param| {
        let Some((name, value)) = param.split_once('=') else {
            return true;
        };
        if !name.trim().eq_ignore_ascii_case("charset") {
            return true;
        }
        let value = value.trim().trim_matches('"');
        value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(max: usize, input: &[u8], step: usize) -> Result<Vec<Frame>, &'static str> {
        let mut codec = ContentLength::new(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let fail = |err| match err {
            FramingError::Broken(why) => why,
            FramingError::TooLarge => "too large",
            FramingError::Io(_) => "io",
        };
        for piece in input.chunks(step) {
            buf.extend_from_slice(piece);
            while let Some(frame) = codec.decode(&mut buf).map_err(fail)? {
                out.push(frame);
            }
            assert!(
                buf.len() <= MAX_HEADER + max + step,
                "held {} bytes",
                buf.len()
            );
        }
        while let Some(frame) = codec.decode_eof(&mut buf).map_err(fail)? {
            out.push(frame);
        }
        Ok(out)
    }

    fn message(text: &str) -> Frame {
        Frame::Message(bytes::Bytes::copy_from_slice(text.as_bytes()))
    }

    #[test]
    fn messages_are_read_by_their_length_whatever_the_reads() {
        let input = b"Content-Length: 7\r\n\r\n{\"a\":1}content-length:  2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n[]";
        for step in [1, 2, 3, 5, 4096] {
            assert_eq!(
                decode_all(100, input, step),
                Ok(vec![message("{\"a\":1}"), message("[]")]),
                "in pieces of {step}"
            );
        }
    }

    #[test]
    fn other_headers_are_passed_over_and_utf8_is_taken_in_any_spelling() {
        let input = b"X-Whatever: 1\r\nContent-Type: application/json; charset=\"UTF8\"\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(decode_all(100, input, 3), Ok(vec![message("{}")]));
    }

    #[test]
    fn a_bad_header_ends_the_stream_with_its_reason() {
        let cases: [(&[u8], &str); 8] = [
            (
                b"Content-Length: -1\r\n\r\n",
                "a Content-Length that is not a number",
            ),
            (
                b"Content-Length: 12a\r\n\r\n",
                "a Content-Length that is not a number",
            ),
            (
                b"Content-Length:\r\n\r\n",
                "a Content-Length that is not a number",
            ),
            (b"Content-Length: 99999999999\r\n\r\n", "too large"),
            (
                b"Content-Length: 999999999999999999999999\r\n\r\n",
                "too large",
            ),
            (
                b"Content-Type: text/plain; charset=latin1\r\nContent-Length: 2\r\n\r\n{}",
                "a charset other than UTF-8",
            ),
            (
                b"Content-Type: application/json\r\n\r\n{}",
                "no Content-Length header",
            ),
            (b"garbage\r\n\r\n", "a header line without a colon"),
        ];
        for (input, why) in cases {
            for step in [1, 4096] {
                assert_eq!(
                    decode_all(1000, input, step),
                    Err(why),
                    "{:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
        assert_eq!(
            decode_all(100, b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 1),
            Err("two different Content-Length headers")
        );
    }

    #[test]
    fn a_header_with_no_end_is_refused_once_it_is_too_long() {
        let mut input = b"Content-Length: 2\r\nX: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', 1024 * 1024));
        assert_eq!(
            decode_all(100, &input, 4096),
            Err("a header part over 8 KiB")
        );
        assert_eq!(
            decode_all(100, &input[..1000], 10),
            Ok(vec![]),
            "short of the limit, it waits"
        );
    }

    #[test]
    fn a_declared_length_is_not_allocated_before_it_comes() {
        let mut codec = ContentLength::new(usize::MAX);
        let mut buf = BytesMut::from(&b"Content-Length: 1000000000\r\n\r\n"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(
            buf.capacity() <= RESERVE_AT_ONCE + 64,
            "reserved {}",
            buf.capacity()
        );
    }

    #[test]
    fn a_message_cut_off_by_the_end_is_dropped() {
        assert_eq!(
            decode_all(100, b"Content-Length: 10\r\n\r\n{\"a\"", 2),
            Ok(vec![])
        );
    }
}
