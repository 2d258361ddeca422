//! The framings of a byte stream as codecs: where one message ends and the next begins.
//!
//! Each decoder yields [`Frame`]s and is linear in the bytes: it remembers how far it has
//! scanned, so a message that comes in many reads is not scanned again from its start, and it
//! never holds more than the message size limit of one message (bytes past the limit are
//! dropped as they come). A framing that can find the next message after a bad one
//! (newline-delimited, concatenated) says so with a frame and goes on; one that cannot
//! (`Content-Length`) fails with a [`FramingError`], and the connection ends.

mod concatenated;
mod content_length;
mod newline;

use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

pub(crate) use concatenated::Concatenated;
pub(crate) use content_length::ContentLength;
pub(crate) use newline::Newline;

use super::Framing;
use crate::engine::Out;

/// What a decoder found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// One message's text.
    Message(Bytes),
    /// A message over the size limit, skipped.
    TooLarge,
    /// Bytes that are no message at all (outside any JSON value), skipped.
    Garbage,
}

/// Why a stream's framing cannot go on.
#[derive(Debug)]
pub(crate) enum FramingError {
    /// Reading failed.
    Io(io::Error),
    /// A message over the size limit, where nothing tells where the next one begins.
    TooLarge,
    /// The peer broke the framing; the reason, for the log.
    Broken(&'static str),
}

impl From<io::Error> for FramingError {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

/// The decoder of a framing.
#[derive(Debug)]
pub(crate) enum Decode {
    Newline(Newline),
    ContentLength(ContentLength),
    Concatenated(Concatenated),
    /// Concatenated values until a line end right after the first one tells a
    /// newline-delimited peer; then newline-delimited.
    Auto(Concatenated, usize),
}

impl Decode {
    /// The decoder for `framing`, taking messages of at most `max` bytes.
    pub(crate) fn new(framing: Framing, max: usize) -> Self {
        match framing {
            Framing::Newline => Self::Newline(Newline::new(max)),
            Framing::ContentLength => Self::ContentLength(ContentLength::new(max)),
            Framing::Concatenated => Self::Concatenated(Concatenated::new(max)),
            Framing::Auto => Self::Auto(Concatenated::detecting(max), max),
        }
    }
}

impl Decoder for Decode {
    type Item = Frame;
    type Error = FramingError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        match self {
            Self::Newline(codec) => Ok(codec.decode(buf)),
            Self::ContentLength(codec) => codec.decode(buf),
            Self::Concatenated(codec) => Ok(codec.decode(buf)),
            Self::Auto(codec, max) => {
                let frame = codec.decode(buf);
                if frame.is_none() && codec.is_lines() {
                    *self = Self::Newline(Newline::new(*max));
                    return self.decode(buf);
                }
                Ok(frame)
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        if let Self::Auto(..) = self {
            // What is here may tell the framing first.
            if let Some(frame) = self.decode(buf)? {
                return Ok(Some(frame));
            }
        }
        match self {
            Self::Newline(codec) => Ok(codec.decode_eof(buf)),
            Self::ContentLength(codec) => codec.decode_eof(buf),
            Self::Concatenated(codec) | Self::Auto(codec, _) => Ok(codec.decode_eof(buf)),
        }
    }
}

/// The encoder of a framing: each message is one frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Encode(pub(crate) Framing);

impl Encode {
    fn frame(&self, buf: &mut BytesMut, len: usize, body: impl FnOnce(&mut BytesMut)) {
        match self.0 {
            // Both are written newline-terminated: what the one reads, the other reads too.
            Framing::Newline | Framing::Concatenated | Framing::Auto => {
                buf.reserve(len + 1);
                let start = buf.len();
                body(buf);
                // One message, one line: a raw line end in JSON text can only be whitespace
                // between tokens (in a string it is escaped), so a space in its place keeps
                // the text's meaning. Only a result written by hand (a `RawValue`) has any.
                for byte in &mut buf[start..] {
                    if *byte == b'\n' || *byte == b'\r' {
                        *byte = b' ';
                    }
                }
                buf.put_u8(b'\n');
            }
            Framing::ContentLength => {
                buf.reserve(len + 40);
                buf.put_slice(b"Content-Length: ");
                put_decimal(buf, len);
                buf.put_slice(b"\r\n\r\n");
                body(buf);
            }
        }
    }
}

/// Writes `n` in decimal.
fn put_decimal(buf: &mut BytesMut, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // A digit: below 10.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.put_slice(&digits[at..]);
}

impl Encoder<Out<'_>> for Encode {
    type Error = io::Error;

    fn encode(&mut self, out: Out<'_>, buf: &mut BytesMut) -> io::Result<()> {
        match out {
            Out::Answer(answer) => self.frame(buf, answer.len(), |buf| buf.put_slice(answer)),
            Out::Note(note) => self.frame(buf, note.len(), |buf| {
                for part in note.parts() {
                    buf.put_slice(part);
                }
            }),
            // A byte stream has no probe that is not a message.
            Out::Ping => {}
        }
        Ok(())
    }
}

/// JSON's insignificant whitespace.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// What `framing` finds in `input` fed in pieces of `step` bytes, for the decoders' unit
/// tests; each piece leaves at most `max` and two bytes held.
#[cfg(test)]
fn in_pieces(framing: Framing, max: usize, input: &[u8], step: usize) -> Vec<Found> {
    let cuts: Vec<usize> = (step..input.len()).step_by(step).collect();
    let (found, held) = frames(framing, max, input, &cuts);
    assert!(held <= max + 2, "held {held} bytes");
    found
}

/// A message's frame, for the decoders' unit tests.
#[cfg(test)]
fn message(text: &str) -> Found {
    Found::Message(text.as_bytes().to_vec())
}

/// What a decoder found, for the fuzz targets.
#[doc(hidden)]
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// A message's text.
    Message(Vec<u8>),
    /// A message over the limit, skipped.
    TooLarge,
    /// Bytes that are no message, skipped.
    Garbage,
    /// The framing broke: the stream ends.
    Broken,
}

/// For the fuzz targets: what `framing` finds in `input` taking messages of at most `max`
/// bytes, fed in pieces cut at `cuts` (offsets, in any order), then the end of the stream;
/// and the most bytes the decoder held between two pieces. Then `input` once more after the
/// end, as a stream that goes on after its end may bring (what it finds is not returned:
/// it must only not panic).
#[doc(hidden)]
pub fn frames(framing: Framing, max: usize, input: &[u8], cuts: &[usize]) -> (Vec<Found>, usize) {
    let mut cuts: Vec<usize> = cuts.iter().map(|&cut| cut.min(input.len())).collect();
    cuts.push(input.len());
    cuts.sort_unstable();
    let mut decode = Decode::new(framing, max);
    let mut buf = BytesMut::new();
    let mut found = Vec::new();
    let mut held = 0;
    let mut from = 0;
    let push = |frame: Frame, found: &mut Vec<Found>| {
        found.push(match frame {
            Frame::Message(message) => Found::Message(message.to_vec()),
            Frame::TooLarge => Found::TooLarge,
            Frame::Garbage => Found::Garbage,
        });
    };
    for cut in cuts {
        buf.extend_from_slice(&input[from..cut]);
        from = cut;
        loop {
            match decode.decode(&mut buf) {
                Ok(Some(frame)) => push(frame, &mut found),
                Ok(None) => break,
                Err(_) => {
                    found.push(Found::Broken);
                    return (found, held);
                }
            }
        }
        held = held.max(buf.len());
    }
    loop {
        match decode.decode_eof(&mut buf) {
            Ok(Some(frame)) => push(frame, &mut found),
            Ok(None) => break,
            Err(_) => {
                found.push(Found::Broken);
                return (found, held);
            }
        }
    }
    buf.extend_from_slice(input);
    while let Ok(Some(_)) = decode.decode(&mut buf) {}
    while let Ok(Some(_)) = decode.decode_eof(&mut buf) {}
    (found, held)
}
