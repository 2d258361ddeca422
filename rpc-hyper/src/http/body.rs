//! Reading a request body whole, within a limit.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{Response, StatusCode};
use http_body::Body;

use super::reply::{plain, Refusal};
use crate::response::ResponseBody;
use crate::served::BoxError;

/// Reads a whole body, refusing one longer than a limit.
///
/// Most bodies arrive in one chunk, which is kept as it is: no copy and no allocation. Later
/// chunks are gathered into one buffer.
pub(super) struct BodyReader {
    limit: usize,
    /// How many bytes the body declared (its size hint), for sizing the buffer; at most
    /// [`MAX_UP_FRONT`], as a client's claim is not yet its bytes.
    expected: usize,
    /// How many bytes were read.
    len: usize,
    /// The first chunk.
    first: Bytes,
    /// Every chunk, once there is more than one.
    gathered: Vec<u8>,
}

/// The most buffer reserved for a body before its bytes arrive.
const MAX_UP_FRONT: usize = 256 * 1024;

/// Why a body could not be read.
pub(super) enum ReadError {
    /// It is longer than the limit.
    TooLarge,
    /// It did not arrive within the body timeout.
    TimedOut,
    /// The client went away, or the framing was malformed.
    Failed(BoxError),
}

impl ReadError {
    pub(super) fn response(self) -> Response<ResponseBody> {
        match self {
            ReadError::TooLarge => Refusal::TooLarge.response(),
            ReadError::TimedOut => {
                tracing::debug!("the request body did not arrive in time");
                Refusal::BodyTimeout.response()
            }
            ReadError::Failed(err) => {
                // The client went away, or sent a malformed chunked body.
                tracing::debug!(error = %err, "reading the request body failed");
                plain(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: the body could not be read",
                )
            }
        }
    }
}

impl BodyReader {
    pub(super) fn new(limit: usize, expected: u64) -> Self {
        Self {
            limit,
            expected: usize::try_from(expected)
                .unwrap_or(usize::MAX)
                .min(limit)
                .min(MAX_UP_FRONT),
            len: 0,
            first: Bytes::new(),
            gathered: Vec::new(),
        }
    }

    /// Reads on until the body ends; then yields it.
    pub(super) fn poll_read<B>(
        &mut self,
        mut body: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Bytes, ReadError>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        loop {
            // A sized body ends with its last byte: no need to poll for the end.
            if self.len > 0 && body.is_end_stream() {
                return Poll::Ready(Ok(self.take()));
            }
            let frame = match body.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(self.take())),
                Poll::Ready(Some(Err(err))) => {
                    return Poll::Ready(Err(ReadError::Failed(err.into())))
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            // Trailers carry nothing for JSON-RPC.
            let Ok(mut data) = frame.into_data() else {
                continue;
            };
            let chunk = data.remaining();
            if chunk > self.limit - self.len {
                return Poll::Ready(Err(ReadError::TooLarge));
            }
            if self.len == 0 {
                self.first = data.copy_to_bytes(chunk);
            } else {
                if self.gathered.is_empty() {
                    self.gathered.reserve(self.expected.max(self.len + chunk));
                    self.gathered.extend_from_slice(&self.first);
                }
                while data.has_remaining() {
                    let part = data.chunk();
                    self.gathered.extend_from_slice(part);
                    let read = part.len();
                    data.advance(read);
                }
            }
            self.len += chunk;
        }
    }

    fn take(&mut self) -> Bytes {
        if self.gathered.is_empty() {
            std::mem::take(&mut self.first)
        } else {
            Bytes::from(std::mem::take(&mut self.gathered))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use std::pin::pin;

    use http::HeaderMap;
    use http_body::{Frame, SizeHint};

    use super::*;

    /// A body that yields the frames it was given, one per poll, then ends.
    struct Frames {
        frames: VecDeque<Result<Frame<Bytes>, &'static str>>,
        hint: u64,
    }

    impl Frames {
        fn new(frames: impl IntoIterator<Item = Result<Frame<Bytes>, &'static str>>) -> Self {
            Self {
                frames: frames.into_iter().collect(),
                hint: 0,
            }
        }

        fn data(chunks: &[&'static str]) -> Self {
            Self::new(
                chunks
                    .iter()
                    .map(|chunk| Ok(Frame::data(Bytes::from_static(chunk.as_bytes())))),
            )
        }
    }

    impl Body for Frames {
        type Data = Bytes;
        type Error = &'static str;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, &'static str>>> {
            Poll::Ready(self.frames.pop_front())
        }

        fn size_hint(&self) -> SizeHint {
            let mut hint = SizeHint::new();
            hint.set_lower(self.hint);
            hint
        }
    }

    fn read(limit: usize, body: Frames) -> Result<Bytes, ReadError> {
        let mut body = pin!(body);
        let mut reader = BodyReader::new(limit, body.size_hint().lower());
        match reader.poll_read(
            body.as_mut(),
            &mut Context::from_waker(std::task::Waker::noop()),
        ) {
            Poll::Ready(read) => read,
            Poll::Pending => panic!("every frame is ready"),
        }
    }

    #[test]
    fn one_chunk_is_kept_as_it_is() {
        let chunk = Bytes::from_static(b"{}");
        let body = Frames::new([Ok(Frame::data(chunk.clone()))]);
        let read = read(10, body).ok().unwrap();
        assert_eq!(read, chunk);
        assert_eq!(read.as_ptr(), chunk.as_ptr(), "the chunk was copied");
    }

    #[test]
    fn chunks_are_gathered_in_order_and_trailers_skipped() {
        let mut body = Frames::data(&["[1,", "2,", "3]"]);
        body.frames.insert(1, Ok(Frame::trailers(HeaderMap::new())));
        body.hint = 7;
        assert_eq!(read(7, body).ok().unwrap(), "[1,2,3]");
        assert_eq!(read(10, Frames::new([])).ok().unwrap(), "");
    }

    #[test]
    fn a_body_over_the_limit_is_refused_at_the_chunk_that_crosses_it() {
        assert!(matches!(
            read(6, Frames::data(&["[1,", "2,", "3]"])),
            Err(ReadError::TooLarge)
        ));
        assert!(matches!(
            read(2, Frames::data(&["[1,2,3]"])),
            Err(ReadError::TooLarge)
        ));
        // At the limit exactly is fine, and a wrong size hint changes nothing.
        let mut body = Frames::data(&["[1,", "2,", "3]"]);
        body.hint = u64::MAX;
        assert_eq!(read(7, body).ok().unwrap(), "[1,2,3]");
    }

    #[test]
    fn a_failing_body_is_an_error() {
        let body = Frames::new([Ok(Frame::data(Bytes::from_static(b"[1,"))), Err("reset")]);
        match read(10, body) {
            Err(ReadError::Failed(err)) => assert_eq!(err.to_string(), "reset"),
            _ => panic!("the failure was not reported"),
        }
    }
}
