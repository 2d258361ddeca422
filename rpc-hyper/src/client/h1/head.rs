//! Reading an answer's head: its status, how its body is framed, whether its connection
//! stays open; and the small pieces of the wire format the exchange writes and reads.

use http::StatusCode;

use crate::client::error::Error;

/// How the body of an answer is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body (1xx, 204, 304).
    Empty,
    /// `Content-Length` bytes.
    Length(usize),
    /// Chunks, up to the last (empty) one and the trailers.
    Chunked,
    /// Everything up to the close.
    UntilClose,
}

/// The status, the body's framing and whether the connection stays open, from a parsed head.
pub(super) fn read_head(
    response: &httparse::Response<'_, '_>,
) -> Result<(StatusCode, Framing, bool), Error> {
    let status = response
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| Error::protocol("an answer without a valid status"))?;
    let mut length: Option<usize> = None;
    // The final transfer coding, once a Transfer-Encoding header names one: chunked or not.
    let mut chunked: Option<bool> = None;
    let mut close = response.version == Some(0); // HTTP/1.0 closes unless told otherwise
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let digits = header.value.trim_ascii();
            let value = (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
                .then(|| std::str::from_utf8(digits).ok()?.parse::<usize>().ok())
                .flatten()
                .ok_or_else(|| Error::protocol("an invalid Content-Length"))?;
            if length.is_some_and(|seen| seen != value) {
                return Err(Error::protocol("two different Content-Lengths"));
            }
            length = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked is the last coding when it is there at all.
            if let Some(last) = tokens(header.value).last() {
                chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
            }
        } else if header.name.eq_ignore_ascii_case("connection") {
            for token in tokens(header.value) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    close = false;
                }
            }
        }
    }
    let framing = if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        Framing::Empty
    } else if let Some(chunked) = chunked {
        // A transfer coding wins over a Content-Length; a body not chunked last ends with
        // the connection (RFC 9112, 6.3).
        if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else if let Some(len) = length {
        Framing::Length(len)
    } else {
        Framing::UntilClose
    };
    // A body that both declares a length and a coding is read, but its connection not kept.
    let keep_alive = !(close || (chunked.is_some() && length.is_some()));
    Ok((status, framing, keep_alive))
}

/// The comma-separated tokens of a header value, trimmed.
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&byte| byte == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|token| !token.is_empty())
}

/// The size of a chunk from its line (`hex[;extensions]`).
pub(super) fn chunk_size(line: &[u8]) -> Result<usize, Error> {
    let digits = line
        .split(|&byte| byte == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(Error::protocol("an invalid chunk size"));
    }
    digits.iter().try_fold(0usize, |size, &digit| {
        char::from(digit)
            .to_digit(16)
            .and_then(|value| size.checked_mul(16)?.checked_add(value as usize))
            .ok_or_else(|| Error::protocol("an invalid chunk size"))
    })
}

/// `{len}\r\n\r\n`, the end of the head, written into `buf`.
pub(super) fn content_length(buf: &mut [u8; 24], len: usize) -> &[u8] {
    let mut at = buf.len() - 4;
    buf[at..].copy_from_slice(b"\r\n\r\n");
    let mut rest = len;
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    &buf[at..]
}
