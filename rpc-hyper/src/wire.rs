//! A served connection's byte stream: a TCP stream, or (the `tls` feature) a TLS stream over
//! one. HTTP/1, h2 and the WebSocket read and write it alike; waiting for bytes while parked,
//! and the first read that tells the protocol, are the two places it must be told apart. And
//! the orderly close of a connection turned away (`close_gently`).

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

#[cfg(feature = "tls")]
use crate::either_io::either_io;

/// A connection's stream: cleartext, or TLS.
#[cfg(feature = "tls")]
#[derive(Debug)]
pub(crate) enum Wire {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// Without the `tls` feature, a connection's stream is its TCP stream, with nothing between:
/// the HTTP path is the code it was before TLS, instruction for instruction.
#[cfg(not(feature = "tls"))]
pub(crate) type Wire = TcpStream;

#[cfg(feature = "tls")]
either_io!(Wire { Tcp, Tls });

/// Waits until a read would find something: bytes on the socket, or (TLS) plaintext already
/// decrypted and not read yet.
pub(crate) async fn readable(wire: &Wire) -> io::Result<()> {
    #[cfg(feature = "tls")]
    let wire = match wire {
        Wire::Tcp(tcp) => tcp,
        Wire::Tls(tls) => {
            let (tcp, session) = tls.get_ref();
            // rustls wants no more records while it holds plaintext to hand out.
            if !session.wants_read() {
                return Ok(());
            }
            tcp
        }
    };
    wire.readable().await
}

/// Reads what has come (at least a byte, or 0 at the end of the stream) into `buf`.
pub(crate) async fn read_some(wire: &mut Wire, buf: &mut [u8]) -> io::Result<usize> {
    #[cfg(feature = "tls")]
    let wire = match wire {
        Wire::Tcp(tcp) => tcp,
        Wire::Tls(tls) => {
            let mut buf = ReadBuf::new(buf);
            poll_fn(|cx| Pin::new(&mut **tls).poll_read(cx, &mut buf)).await?;
            return Ok(buf.filled().len());
        }
    };
    loop {
        wire.readable().await?;
        match wire.try_read(buf) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            read => return read,
        }
    }
}

/// Whether the TLS handshake chose HTTP/2 (ALPN `h2`): its client then sends the preface.
pub(crate) fn negotiated_h2(wire: &Wire) -> bool {
    #[cfg(feature = "tls")]
    if let Wire::Tls(tls) = wire {
        return tls.get_ref().1.alpn_protocol() == Some(b"h2");
    }
    let _ = wire;
    false
}

/// Writes `last`, shuts the socket for writing, and lingers for a moment (a second, 64 KiB at
/// most): see [`linger`].
#[cfg_attr(all(feature = "http2", not(feature = "tls")), allow(dead_code))]
pub(crate) async fn close_gently<T: AsyncRead + AsyncWrite + Unpin>(
    io: &mut T,
    last: &[u8],
) -> io::Result<()> {
    let closing = async {
        let mut written = 0;
        while written < last.len() {
            let wrote = poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, &last[written..])).await?;
            if wrote == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            written += wrote;
        }
        poll_fn(|cx| Pin::new(&mut *io).poll_shutdown(cx)).await?;
        let second = Duration::from_secs(1);
        linger(&mut *io, 64 * 1024, second, second).await;
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(1), closing)
        .await
        .unwrap_or(Ok(()))
}

/// Reads and drops what the client still sends after the connection has answered for the
/// last time, until the client closes its side, `bytes` have come, none came for `idle`, or
/// `total` has passed.
///
/// A socket closed with unread bytes is reset, and the reset can destroy the answer before
/// the client reads it: a client still writing its request would never learn why it was
/// turned away.
pub(crate) async fn linger<T: AsyncRead + Unpin>(
    io: &mut T,
    bytes: usize,
    idle: Duration,
    total: Duration,
) {
    // On the heap, and only now: every connection's future would carry it otherwise.
    let mut sink = vec![0; 8 * 1024];
    let reading = async {
        let mut left = bytes;
        while left > 0 {
            let mut buf = ReadBuf::new(&mut sink);
            let read = poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut buf));
            match tokio::time::timeout(idle, read).await {
                Ok(Ok(())) if !buf.filled().is_empty() => {
                    left = left.saturating_sub(buf.filled().len());
                }
                // The client's end of the stream, an error, or silence.
                _ => return,
            }
        }
    };
    let _ = tokio::time::timeout(total, reading).await;
}
