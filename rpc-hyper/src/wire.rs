//! A served connection's byte stream: a TCP stream, or (the `tls` feature) a TLS stream over
//! one. HTTP/1, h2 and the WebSocket read and write it alike; waiting for bytes while parked,
//! and the first read that tells the protocol, are the two places it must be told apart.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::either_io::either_io;

/// A connection's stream: cleartext, or TLS.
#[derive(Debug)]
pub(crate) enum Wire {
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Wire {
    /// Waits until a read would find something: bytes on the socket, or (TLS) plaintext
    /// already decrypted and not read yet.
    pub(crate) async fn readable(&self) -> io::Result<()> {
        match self {
            Wire::Tcp(tcp) => tcp.readable().await,
            #[cfg(feature = "tls")]
            Wire::Tls(tls) => {
                let (tcp, session) = tls.get_ref();
                // rustls wants no more records while it holds plaintext to hand out.
                if !session.wants_read() {
                    return Ok(());
                }
                tcp.readable().await
            }
        }
    }

    /// Reads what has come (at least a byte, or 0 at the end of the stream) into `buf`.
    pub(crate) async fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Wire::Tcp(tcp) => loop {
                tcp.readable().await?;
                match tcp.try_read(buf) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    read => return read,
                }
            },
            #[cfg(feature = "tls")]
            Wire::Tls(_) => {
                let mut buf = ReadBuf::new(buf);
                poll_fn(|cx| Pin::new(&mut *self).poll_read(cx, &mut buf)).await?;
                Ok(buf.filled().len())
            }
        }
    }

    /// Whether the TLS handshake chose HTTP/2 (ALPN `h2`): its client then sends the preface.
    pub(crate) fn negotiated_h2(&self) -> bool {
        match self {
            Wire::Tcp(_) => false,
            #[cfg(feature = "tls")]
            Wire::Tls(tls) => tls.get_ref().1.alpn_protocol() == Some(b"h2"),
        }
    }
}

either_io!(Wire {
    Tcp,
    #[cfg(feature = "tls")]
    Tls,
});

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
