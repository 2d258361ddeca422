//! The client's HTTP/1.1 exchange, written for the one thing it does: POST a JSON body to one
//! URL and read the answer, on a connection the caller's task owns for the exchange.
//!
//! hyper's client connection runs on a task of its own and hands each request and answer
//! across channels; for a request that is one write and an answer that is usually one read,
//! that hand-over was most of the client's own CPU per call. Here the request goes out in one
//! vectored write, and the answer is read into the connection's buffer and parsed with
//! `httparse` (hyper's own parser) in place.
//!
//! What it reads: a status line and headers (up to [`MAX_HEAD`] bytes and [`MAX_HEADERS`]
//! headers), informational (1xx) answers skipped, then a body by `Content-Length`, by
//! `Transfer-Encoding: chunked` (extensions and trailers skipped), or up to the close. A
//! connection goes back to the pool only when its answer was read whole and the server did
//! not ask to close it (`Connection: close`, or HTTP/1.0 without `keep-alive`).

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::error::{Error, Kind};
use super::io::Io;

mod head;

use head::{chunk_size, content_length, read_head, Framing};

/// The longest status line and headers taken.
pub(super) const MAX_HEAD: usize = 64 * 1024;

/// The most headers an answer may have.
pub(super) const MAX_HEADERS: usize = 64;

/// The most informational (1xx) answers taken before the answer.
const MAX_INFORMATIONAL: usize = 16;

/// The longest chunk-size line (with extensions) or trailer line taken.
const MAX_LINE: usize = 4 * 1024;

/// The read buffer each connection starts with; it grows for a long head, and a long body is
/// read straight into a buffer of its own.
const BUFFER: usize = 8 * 1024;

/// One kept-alive connection and what it has read but not used yet.
#[derive(Debug)]
pub(super) struct Conn {
    io: Io,
    /// Zeroed once, so reads go into initialized memory; `buf[start..end]` is unread.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

/// How much of a request went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    /// All of it.
    All,
    /// None: the connection was closed (a kept one the server closed meanwhile).
    Nothing,
    /// Some: the server answered before taking the rest. The connection is not reused.
    Partly,
}

/// An answer read whole: its status and body, and whether the connection may carry another
/// exchange.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Bytes,
    pub(super) reusable: bool,
}

impl Conn {
    pub(super) fn new(io: Io) -> Self {
        Self {
            io,
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
        }
    }

    /// Whether the server closed the connection (or sent something unasked) while it was
    /// idle. Costs no system call unless the socket has shown readiness since its last read.
    pub(super) fn is_closed(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        if self.io.is_tls() {
            // Through TLS, a read that would wait says the connection is quiet; anything else
            // (its close_notify, its end, bytes unasked) says it is not to be reused.
            let mut probe = [0u8; 1];
            let mut probe = ReadBuf::new(&mut probe);
            return !Pin::new(&mut self.io)
                .poll_read(&mut cx, &mut probe)
                .is_pending();
        }
        match self.io.tcp().poll_read_ready(&mut cx) {
            Poll::Pending => false,
            Poll::Ready(Err(_)) => true,
            Poll::Ready(Ok(())) => {
                let mut probe = [0u8; 1];
                !matches!(self.io.tcp().try_read(&mut probe), Err(err) if err.kind() == io::ErrorKind::WouldBlock)
            }
        }
    }

    /// Writes `head`, then `Content-Length` and `body`, in as few writes as the socket takes
    /// (one, as a rule). While the socket takes no more, an answer the server sends before it
    /// has read the whole request (a 413 for a body over its limit) stops the writing: it is
    /// the answer to read.
    pub(super) async fn send(&mut self, head: &[u8], body: &[u8]) -> io::Result<Sent> {
        let mut length = [0u8; 24];
        let length = content_length(&mut length, body.len());
        let mut slices = [IoSlice::new(head), IoSlice::new(length), IoSlice::new(body)];
        let mut slices = &mut slices[..];
        let mut written_any = false;
        while !slices.is_empty() {
            let written = poll_fn(|cx| {
                match Pin::new(&mut self.io).poll_write_vectored(cx, slices) {
                    Poll::Pending if written_any => {
                        // Bytes (or the end) to read while the request is not all written:
                        // the server answered, or gave up. Peeked, so nothing is taken.
                        let mut probe = [0u8; 1];
                        self.io
                            .tcp()
                            .poll_peek(cx, &mut ReadBuf::new(&mut probe))
                            .map(|peeked| peeked.map(|_| None))
                    }
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(written) => Poll::Ready(written.map(Some)),
                }
            })
            .await;
            match written {
                Ok(None) => return Ok(Sent::Partly),
                Ok(Some(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(Some(n)) => {
                    written_any = true;
                    IoSlice::advance_slices(&mut slices, n);
                }
                Err(err) if !written_any && is_gone(&err) => return Ok(Sent::Nothing),
                Err(err) => return Err(err),
            }
        }
        // TLS holds records until flushed; TCP has nothing to flush.
        poll_fn(|cx| Pin::new(&mut self.io).poll_flush(cx)).await?;
        Ok(Sent::All)
    }

    /// Reads the answer, its body up to `max` bytes.
    pub(super) async fn receive(&mut self, max: usize) -> Result<Answer, Error> {
        let mut informational = 0;
        let (status, framing, keep_alive) = loop {
            let head = self.head().await?;
            // 1xx answers are followed by the real one (101 is not asked for, so not taken).
            if !head.0.is_informational() || head.0 == StatusCode::SWITCHING_PROTOCOLS {
                break head;
            }
            informational += 1;
            if informational > MAX_INFORMATIONAL {
                return Err(Error::protocol("too many informational (1xx) answers"));
            }
        };
        let body = match framing {
            Framing::Empty => Bytes::new(),
            Framing::Length(len) => self.exactly(len, max).await?,
            Framing::Chunked => self.chunked(max).await?,
            Framing::UntilClose => self.until_close(max).await?,
        };
        Ok(Answer {
            status,
            body,
            reusable: keep_alive
                && framing != Framing::UntilClose
                && status != StatusCode::SWITCHING_PROTOCOLS
                && self.start == self.end,
        })
    }

    /// The status line and headers: the status, the body's framing, and whether the server
    /// keeps the connection open.
    async fn head(&mut self) -> Result<(StatusCode, Framing, bool), Error> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buf[self.start..self.end]) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = read_head(&response)?;
                    self.start += len;
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) if self.end - self.start < MAX_HEAD => {}
                Ok(httparse::Status::Partial) => {
                    return Err(Error::protocol("an answer's head is too long"))
                }
                Err(err) => return Err(Error::protocol(format!("not an HTTP answer: {err}"))),
            }
            if self.fill(MAX_HEAD).await? == 0 {
                return Err(Error::transport(if self.start == self.end {
                    "the server closed the connection without an answer"
                } else {
                    "the server closed the connection mid-answer"
                }));
            }
        }
    }

    /// A body of `len` bytes.
    async fn exactly(&mut self, len: usize, max: usize) -> Result<Bytes, Error> {
        if len > max {
            return Err(Error::new(Kind::TooLarge(max)));
        }
        let have = self.end - self.start;
        if have >= len {
            let body = Bytes::copy_from_slice(&self.buf[self.start..self.start + len]);
            self.start += len;
            return Ok(body);
        }
        // Longer than what came with the head: read the rest straight into its own buffer,
        // grown as it comes (a declared length alone does not make it allocate).
        let mut body = vec![0; len.min(have.max(BUFFER) * 2)];
        body[..have].copy_from_slice(&self.buf[self.start..self.end]);
        (self.start, self.end) = (0, 0);
        let mut filled = have;
        while filled < len {
            if filled == body.len() {
                body.resize(body.len().saturating_mul(2).min(len), 0);
            }
            let n = read(&mut self.io, &mut body[filled..]).await?;
            if n == 0 {
                return Err(mid_answer());
            }
            filled += n;
        }
        Ok(Bytes::from(body))
    }

    /// A chunked body, gathered.
    async fn chunked(&mut self, max: usize) -> Result<Bytes, Error> {
        let mut body = Vec::new();
        loop {
            let size = chunk_size(self.line().await?)?;
            if size == 0 {
                break;
            }
            if size > max - body.len() {
                return Err(Error::new(Kind::TooLarge(max)));
            }
            let mut left = size;
            while left > 0 {
                if self.start == self.end && self.fill(BUFFER).await? == 0 {
                    return Err(mid_answer());
                }
                let take = left.min(self.end - self.start);
                body.extend_from_slice(&self.buf[self.start..self.start + take]);
                self.start += take;
                left -= take;
            }
            if !self.line().await?.is_empty() {
                return Err(Error::protocol("a chunk longer than its size"));
            }
        }
        // Trailers, each skipped, up to the empty line.
        for _ in 0..=MAX_HEADERS {
            if self.line().await?.is_empty() {
                return Ok(Bytes::from(body));
            }
        }
        Err(Error::protocol("too many trailers"))
    }

    /// A body that ends with the connection.
    async fn until_close(&mut self, max: usize) -> Result<Bytes, Error> {
        loop {
            // What came with the head counts too.
            if self.end - self.start > max {
                return Err(Error::new(Kind::TooLarge(max)));
            }
            if self.fill(max.saturating_add(1)).await? == 0 {
                break;
            }
        }
        let body = Bytes::copy_from_slice(&self.buf[self.start..self.end]);
        self.start = self.end;
        Ok(body)
    }

    /// The next line (without its CRLF), consumed.
    async fn line(&mut self) -> Result<&[u8], Error> {
        loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(at) = unread.windows(2).position(|pair| pair == b"\r\n") {
                let line = self.start..self.start + at;
                self.start += at + 2;
                return Ok(&self.buf[line]);
            }
            if unread.len() > MAX_LINE {
                return Err(Error::protocol("a chunk line is too long"));
            }
            if self.fill(MAX_LINE + 2).await? == 0 {
                return Err(mid_answer());
            }
        }
    }

    /// Reads more into the buffer, which may hold up to `limit` unread bytes (it grows to
    /// that, no further): how many bytes came, 0 at the end of the stream.
    async fn fill(&mut self, limit: usize) -> Result<usize, Error> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            } else if self.buf.len() < limit {
                let grown = (self.buf.len() * 2).min(limit).max(self.buf.len() + 1);
                self.buf.resize(grown, 0);
            } else {
                return Err(Error::protocol("an answer's line or head is too long"));
            }
        }
        let n = read(&mut self.io, &mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }
}

/// One read into `into`: how many bytes came (0 at the end of the stream).
async fn read(io: &mut Io, into: &mut [u8]) -> Result<usize, Error> {
    let mut into = ReadBuf::new(into);
    poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut into))
        .await
        .map_err(Error::transport)?;
    Ok(into.filled().len())
}

/// A write error that means the server had closed the connection before the request.
fn is_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

fn mid_answer() -> Error {
    Error::transport("the server closed the connection mid-answer")
}

#[cfg(test)]
mod tests;
