//! The request parser's fast path: one pass over the bytes of a body in the shape nearly all
//! bodies have (a request object or a batch of them, whose member names have no escapes),
//! finding each member's value and checking that it is valid JSON, with no serde machinery.
//!
//! It decides only what it is sure of. Anything else (invalid JSON, an object with no
//! `method`, a member twice, `result` or `error` in a request, a batch element that is not an
//! object, a batch over the limit, nesting past [`MAX_DEPTH`]) gives `None`, and the body goes
//! to the serde parser, which says exactly what it is. So for every body it accepts, it must
//! give what the serde parser gives: `tests` compares the two.

use super::{check, Body, Entry, Key};

/// The bytes that end a string's plain run: a quote, an escape, a control character.
static SPECIAL: [bool; 256] = {
    let mut special = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        special[byte] = true;
        byte += 1;
    }
    special[b'"' as usize] = true;
    special[b'\\' as usize] = true;
    special
};

/// The deepest nesting the fast path follows; deeper bodies go to the serde parser (which
/// stops at its own limit).
const MAX_DEPTH: usize = 64;

/// Parses `text` (valid UTF-8), or `None` for the serde parser to decide.
pub(super) fn scan_body(text: &str, max_batch_len: usize) -> Option<Body<'_>> {
    let mut scan = Scan {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    scan.space();
    let body = match scan.peek()? {
        b'{' => Body::Single(scan.entry()?),
        b'[' => {
            scan.at += 1;
            scan.space();
            let mut entries = Vec::new();
            if scan.peek()? == b']' {
                scan.at += 1;
            } else {
                entries.reserve(16.min(max_batch_len));
                loop {
                    scan.space();
                    if scan.peek()? != b'{' || entries.len() == max_batch_len {
                        return None;
                    }
                    entries.push(scan.entry()?);
                    scan.space();
                    match scan.next()? {
                        b',' => {}
                        b']' => break,
                        _ => return None,
                    }
                }
            }
            Body::Batch(entries)
        }
        _ => return None,
    };
    scan.space();
    (scan.at == scan.bytes.len()).then_some(body)
}

/// A position in the body.
struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    /// Skips JSON's whitespace.
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Expects `word` (`true`, `false` or `null`) at the current position.
    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at.checked_add(word.len())?;
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// One request object, at its `{`.
    fn entry(&mut self) -> Option<Entry<'a>> {
        self.at += 1;
        let (mut jsonrpc, mut method, mut params, mut id) = (None, None, None, None);
        self.space();
        if self.peek()? == b'}' {
            // No `method`: for the serde parser to word.
            return None;
        }
        loop {
            self.space();
            let key = match self.known_key() {
                Some(key) => key,
                None => Key::of(self.key()?),
            };
            self.space();
            if self.next()? != b':' {
                return None;
            }
            self.space();
            let start = self.at;
            // The version, as every client writes it, is taken whole.
            const VERSION: &[u8] = br#""2.0""#;
            if matches!(key, Key::Jsonrpc) && self.bytes.get(start..)?.starts_with(VERSION) {
                self.at += VERSION.len();
            } else {
                self.value(1)?;
            }
            let value = &self.text[start..self.at];
            let slot = match key {
                Key::Jsonrpc => &mut jsonrpc,
                Key::Method => &mut method,
                Key::Params => &mut params,
                Key::Id => &mut id,
                Key::Result | Key::Error => return None,
                Key::Other => &mut None,
            };
            if slot.replace(value).is_some() {
                return None;
            }
            self.space();
            match self.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
        method?;
        Some(check(jsonrpc, method, params, id, None))
    }

    /// One of the four names a request's members have, written plainly, at its `"`: told by
    /// its first letter and compared whole, where scanning it byte by byte and then matching
    /// it would cost several times as much. `None` (and nothing read) for any other name.
    fn known_key(&mut self) -> Option<Key> {
        let rest = self.bytes.get(self.at..)?;
        let (key, quoted): (_, &[u8]) = match *rest.get(1)? {
            b'j' => (Key::Jsonrpc, b"\"jsonrpc\""),
            b'm' => (Key::Method, b"\"method\""),
            b'p' => (Key::Params, b"\"params\""),
            b'i' => (Key::Id, b"\"id\""),
            _ => return None,
        };
        rest.starts_with(quoted).then(|| {
            self.at += quoted.len();
            key
        })
    }

    /// A member name with no escapes, at its `"`: its bytes.
    fn key(&mut self) -> Option<&'a [u8]> {
        let start = self.at + 1;
        let escaped = self.string()?;
        (!escaped).then(|| &self.bytes[start..self.at - 1])
    }

    /// Skips a string, at its `"`; whether it has escapes.
    fn string(&mut self) -> Option<bool> {
        if self.next()? != b'"' {
            return None;
        }
        let bytes = self.bytes;
        let mut at = self.at;
        let mut escaped = false;
        loop {
            // Most bytes are neither a quote, an escape nor a control character.
            while !SPECIAL[usize::from(*bytes.get(at)?)] {
                at += 1;
            }
            match bytes[at] {
                b'"' => {
                    self.at = at + 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match *bytes.get(at + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at += 2,
                        b'u' => {
                            let hex = bytes.get(at + 2..at + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            at += 6;
                        }
                        _ => return None,
                    }
                }
                // A control character: it must be escaped.
                _ => return None,
            }
        }
    }

    /// Skips a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    /// Skips one value, `depth` levels in.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.members(depth + 1, b'}', true),
            b'[' => self.members(depth + 1, b']', false),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            _ => self.number(),
        }
    }

    /// Skips an object (`named`) or an array, at its opening bracket, to its `close`.
    fn members(&mut self, depth: usize, close: u8, named: bool) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        self.space();
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            self.space();
            if named {
                self.string()?;
                self.space();
                if self.next()? != b':' {
                    return None;
                }
                self.space();
            }
            self.value(depth)?;
            self.space();
            match self.next()? {
                b',' => {}
                byte if byte == close => return Some(()),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests;
