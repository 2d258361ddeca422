//! A byte stream as the engine's transport: a reader framed by a decoder, a writer by an
//! encoder (tokio-util's `FramedRead` and `FramedWrite`).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use bytes::BytesMut;
use futures_util::{Sink, Stream};
use rpc_core::ErrorObject;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, FramedWrite};

use super::codec::{Decode, Encode, Frame, FramingError};
use super::Framing;
use crate::engine::{Ending, Incoming, Out, Transport, KEEP_AT_MOST, READ_BUFFER, WRITE_OUT_AT};

/// A framed byte stream.
pub(crate) struct Framed<R, W> {
    read: FramedRead<R, Decode>,
    write: FramedWrite<W, Encode>,
    max: usize,
    /// The framing broke: what is read from now on is dropped, unframed.
    broken: bool,
    /// Whether the closing connection reads what the peer still sends (not stdin).
    linger: bool,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Framed<R, W> {
    pub(crate) fn new(read: R, write: W, framing: Framing, max: usize, linger: bool) -> Self {
        let read = FramedRead::with_capacity(read, Decode::new(framing, max), READ_BUFFER);
        let mut write = FramedWrite::with_capacity(write, Encode(framing), 0);
        write.set_backpressure_boundary(WRITE_OUT_AT);
        Self {
            read,
            write,
            max,
            broken: false,
            linger,
        }
    }

    /// Once the framing broke: reads and drops what comes, so that the closing connection
    /// can wait for the peer's end without the socket being reset.
    fn poll_discard(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Incoming, Ending>>> {
        let mut scratch = [0u8; 2048];
        let mut buf = tokio::io::ReadBuf::new(&mut scratch);
        match ready!(Pin::new(self.read.get_mut()).poll_read(cx, &mut buf)) {
            Ok(()) if !buf.filled().is_empty() => Poll::Ready(Some(Ok(Incoming::Heard))),
            _ => Poll::Ready(None),
        }
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Transport for Framed<R, W> {
    // The end of a stream's input is a half-close: its peer still reads the answers.
    const ANSWERS_AFTER_EOF: bool = true;

    fn poll_next(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Incoming, Ending>>> {
        if self.broken {
            return self.poll_discard(cx);
        }
        let next = ready!(Pin::new(&mut self.read).poll_next(cx));
        self.broken = matches!(next, Some(Err(_)));
        let incoming = match next {
            None => return Poll::Ready(None),
            Some(Ok(Frame::Message(message))) => Ok(Incoming::Message(message)),
            Some(Ok(Frame::TooLarge)) => Ok(Incoming::Refused(
                ErrorObject::invalid_request()
                    .with_data(format!("a message over the {}-byte limit", self.max)),
            )),
            Some(Ok(Frame::Garbage)) => Ok(Incoming::Refused(ErrorObject::parse_error())),
            Some(Err(FramingError::Io(err))) => {
                tracing::debug!(error = %err, "reading a stream failed");
                Err(Ending::Gone)
            }
            // The peer's fault, logged where a server's operator sees it by default: the
            // connection ends, with nothing said to the peer (the framing has no way to).
            Some(Err(FramingError::TooLarge)) => {
                tracing::info!(
                    limit = self.max,
                    "a stream's message is over the limit; closing"
                );
                Err(Ending::TooLarge)
            }
            Some(Err(FramingError::Broken(why))) => {
                tracing::info!(why, "a stream broke its framing; closing");
                Err(Ending::Violation(why))
            }
        };
        Poll::Ready(Some(incoming))
    }

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Sink::<Out<'_>>::poll_ready(Pin::new(&mut self.write), cx)
    }

    fn start_send(&mut self, out: Out<'_>) -> io::Result<()> {
        Pin::new(&mut self.write).start_send(out)
    }

    fn poll_flush(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Sink::<Out<'_>>::poll_flush(Pin::new(&mut self.write), cx)
    }

    fn start_close(&mut self, _: Ending) -> io::Result<()> {
        // A stream has no closing words: it just ends.
        Ok(())
    }

    fn poll_close(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Sink::<Out<'_>>::poll_close(Pin::new(&mut self.write), cx)
    }

    fn shrink(&mut self) {
        let read = self.read.read_buffer_mut();
        if read.is_empty() && read.capacity() > KEEP_AT_MOST {
            *read = BytesMut::with_capacity(READ_BUFFER);
        }
        let write = self.write.write_buffer_mut();
        if write.is_empty() && write.capacity() > KEEP_AT_MOST {
            *write = BytesMut::new();
        }
    }

    fn lingers(&self) -> bool {
        self.linger
    }
}
