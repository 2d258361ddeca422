//! One stream of several kinds: an enum whose every variant holds an `AsyncRead + AsyncWrite`
//! (a TCP or a TLS stream; a pipe, a socket or a blocking handle), read and written through
//! whichever it holds. Written once here for each such enum.

/// Implements `AsyncRead` and `AsyncWrite` for `$name` (or, `read` or `write` first, only one
/// of them) by handing each call to the stream its variant holds. Variants may carry
/// attributes (a `cfg`).
macro_rules! either_io {
    ($name:ident { $($(#[$attr:meta])* $variant:ident),+ $(,)? }) => {
        either_io!(read $name { $($(#[$attr])* $variant),+ });
        either_io!(write $name { $($(#[$attr])* $variant),+ });
    };
    (read $name:ident { $($(#[$attr:meta])* $variant:ident),+ $(,)? }) => {
        impl tokio::io::AsyncRead for $name {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match self.get_mut() {
                    $($(#[$attr])* $name::$variant(io) => std::pin::Pin::new(io).poll_read(cx, buf),)+
                }
            }
        }
    };
    (write $name:ident { $($(#[$attr:meta])* $variant:ident),+ $(,)? }) => {
        impl tokio::io::AsyncWrite for $name {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                match self.get_mut() {
                    $($(#[$attr])* $name::$variant(io) => std::pin::Pin::new(io).poll_write(cx, buf),)+
                }
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                match self.get_mut() {
                    $($(#[$attr])* $name::$variant(io) => {
                        std::pin::Pin::new(io).poll_write_vectored(cx, bufs)
                    })+
                }
            }

            fn is_write_vectored(&self) -> bool {
                match self {
                    $($(#[$attr])* $name::$variant(io) => io.is_write_vectored(),)+
                }
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match self.get_mut() {
                    $($(#[$attr])* $name::$variant(io) => std::pin::Pin::new(io).poll_flush(cx),)+
                }
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match self.get_mut() {
                    $($(#[$attr])* $name::$variant(io) => std::pin::Pin::new(io).poll_shutdown(cx),)+
                }
            }
        }
    };
}

pub(crate) use either_io;
