//! HTTP/2 over cleartext (h2c) on a connection that opened with its preface: served with the
//! `http2` feature, refused in HTTP/2's own terms without it.

#[cfg(feature = "http2")]
use hyper_util::rt::TokioIo;

#[cfg(feature = "http2")]
use crate::control::{SignalWatch, CLOSE};
#[cfg(feature = "http2")]
use crate::served::HttpService;
#[cfg(feature = "http2")]
use crate::tracked::Counted;
use crate::tracked::TrackedIo;

#[cfg(feature = "http2")]
pub(crate) async fn serve_http2<T: HttpService>(
    http2: &hyper::server::conn::http2::Builder<hyper_util::rt::TokioExecutor>,
    io: TrackedIo,
    service: Counted<T>,
    signal: &mut SignalWatch<'_>,
) -> hyper::Result<()> {
    // Boxed: HTTP/2's state is twice HTTP/1's, and most connections never need it.
    let mut conn = Box::pin(http2.serve_connection(TokioIo::new(io), service));
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
/// The socket is then closed gently (`wire::close_gently`), so no reset destroys the GOAWAY
/// before the client reads it.
#[cfg(not(feature = "http2"))]
pub(crate) async fn refuse_http2(mut io: TrackedIo) -> hyper::Result<()> {
    const REFUSAL: &[u8] = &[
        0, 0, 0, 4, 0, 0, 0, 0, 0, // SETTINGS, empty, on stream 0
        0, 0, 8, 7, 0, 0, 0, 0, 0, // GOAWAY, 8 bytes, on stream 0:
        0, 0, 0, 0, // no stream was processed,
        0, 0, 0, 0xd, // HTTP_1_1_REQUIRED
    ];
    if let Err(err) = crate::wire::close_gently(&mut io.stream, REFUSAL).await {
        tracing::debug!(error = %err, "refusing an HTTP/2 connection failed");
    }
    Ok(())
}
