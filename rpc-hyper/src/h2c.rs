//! HTTP/2 over cleartext (h2c) on a connection that opened with its preface: served with the
//! `http2` feature, refused in HTTP/2's own terms without it.

#[cfg(not(feature = "http2"))]
use std::future::poll_fn;
#[cfg(not(feature = "http2"))]
use std::io;
#[cfg(not(feature = "http2"))]
use std::pin::Pin;

#[cfg(feature = "http2")]
use hyper_util::rt::TokioIo;

#[cfg(feature = "http2")]
use crate::connection::Protocols;
#[cfg(feature = "http2")]
use crate::control::{SignalWatch, CLOSE};
#[cfg(feature = "http2")]
use crate::tracked::Counted;
use crate::tracked::TrackedIo;
#[cfg(feature = "http2")]
use crate::HttpService;

#[cfg(feature = "http2")]
pub(crate) async fn serve_http2<T: HttpService>(
    protocols: &Protocols,
    io: TrackedIo,
    service: Counted<T>,
    signal: &mut SignalWatch<'_>,
) -> hyper::Result<()> {
    // Boxed: HTTP/2's state is twice HTTP/1's, and most connections never need it.
    let mut conn = Box::pin(protocols.http2.serve_connection(TokioIo::new(io), service));
    loop {
        tokio::select! {
            biased;
            ended = conn.as_mut() => return ended,
            level = &mut *signal => {
                if level >= CLOSE {
                    return Ok(());
                }
                // Draining, or idle past the keep-alive timeout: finish what is in flight.
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Without the `http2` feature, tells an h2c client why it is turned away, in the terms of its
/// protocol: the server's (empty) SETTINGS, which must come first, then a GOAWAY with the
/// error `HTTP_1_1_REQUIRED` (RFC 9113, sections 3.4, 6.8 and 7). Its client then reports that
/// error rather than a connection that closed for no reason.
///
/// The socket is then closed gently: shut for writing, and what the client still sends is
/// read and dropped for a moment (a second, 64 KiB at most). Closed at once with unread bytes,
/// the socket would be reset, and the reset can destroy the GOAWAY before the client reads it.
#[cfg(not(feature = "http2"))]
pub(crate) async fn refuse_http2(io: TrackedIo) -> hyper::Result<()> {
    use std::time::Duration;
    use tokio::io::AsyncWrite;
    const REFUSAL: &[u8] = &[
        0, 0, 0, 4, 0, 0, 0, 0, 0, // SETTINGS, empty, on stream 0
        0, 0, 8, 7, 0, 0, 0, 0, 0, // GOAWAY, 8 bytes, on stream 0:
        0, 0, 0, 0, // no stream was processed,
        0, 0, 0, 0xd, // HTTP_1_1_REQUIRED
    ];
    let mut stream = io.stream;
    let refused = async {
        let mut written = 0;
        while written < REFUSAL.len() {
            stream.writable().await?;
            match stream.try_write(&REFUSAL[written..]) {
                Ok(wrote) => written += wrote,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
        poll_fn(|cx| Pin::new(&mut stream).poll_shutdown(cx)).await?;
        let mut sink = [0; 1024];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            stream.readable().await?;
            match stream.try_read(&mut sink) {
                Ok(0) => break,
                Ok(read) => left = left.saturating_sub(read),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    };
    if let Ok(Err(err)) = tokio::time::timeout(Duration::from_secs(1), refused).await {
        tracing::debug!(error = %err, "refusing an HTTP/2 connection failed");
    }
    Ok(())
}
