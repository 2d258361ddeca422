//! The client's connection to an HTTP server: a TCP stream, or (the `tls` feature) a TLS
//! stream over one. The HTTP/1.1 exchange and h2 read and write it alike.

use tokio::net::TcpStream;

use crate::either_io::either_io;

/// A connection: cleartext, or TLS.
#[derive(Debug)]
pub(super) enum Io {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Io {
    /// The TCP stream underneath, for readiness: bytes to read say something came, even
    /// through TLS (where they cannot be read without taking them).
    pub(super) fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Io::Tls(tls) => tls.get_ref().0,
        }
    }

    /// Whether its bytes are TLS records, not the answer itself.
    pub(super) fn is_tls(&self) -> bool {
        !matches!(self, Io::Plain(_))
    }
}

either_io!(Io {
    Plain,
    #[cfg(feature = "tls")]
    Tls,
});
