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

/// Writes `last`, shuts the socket for writing, and reads and drops what the client still
/// sends for a moment (a second, 64 KiB at most): closed with unread bytes, the socket would
/// be reset, and the reset can destroy the answer before the client reads it.
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
        let mut sink = [0; 1024];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            let mut buf = ReadBuf::new(&mut sink);
            poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut buf)).await?;
            match buf.filled().len() {
                0 => break,
                read => left = left.saturating_sub(read),
            }
        }
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(1), closing)
        .await
        .unwrap_or(Ok(()))
}
