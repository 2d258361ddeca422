//! The PROXY protocol (HAProxy's, versions 1 and 2; the `proxy-protocol` feature): a
//! balancer that passes connections through (TLS included) names the client's address in a
//! header it sends first, and the server reads it before anything else, TLS's handshake
//! included. Only when configured: a header is then required on every connection, and one
//! that does not open with a valid header is closed.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ppp::{HeaderResult, PartialResult};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The longest header read: a version 1 header is at most 107 bytes; a version 2 header with
/// TLVs past this is refused.
const MAX_HEADER: usize = 1024;

/// Reads the PROXY header `stream` opens with, within `timeout`, and consumes exactly its
/// bytes: the address of the client it names, `peer` for a `LOCAL` or `UNKNOWN` header (the
/// balancer's own health check), or `None` (the connection is to be closed) when there is no
/// valid header in time.
pub(crate) async fn read_header(
    stream: &mut TcpStream,
    peer: SocketAddr,
    timeout: Duration,
) -> Option<SocketAddr> {
    match tokio::time::timeout(timeout, read(stream, peer)).await {
        Ok(Ok(Some(client))) => Some(client),
        Ok(Ok(None)) => {
            tracing::debug!(%peer, "a connection did not open with a PROXY header; closed");
            None
        }
        Ok(Err(err)) => {
            tracing::debug!(%peer, error = %err, "reading a PROXY header failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "no PROXY header in time; closed");
            None
        }
    }
}

async fn read(stream: &mut TcpStream, peer: SocketAddr) -> io::Result<Option<SocketAddr>> {
    let mut buf = [0u8; MAX_HEADER];
    loop {
        // Peeked, not read: only the header's own bytes are taken, once its end is known.
        let seen = stream.peek(&mut buf).await?;
        if seen == 0 {
            return Ok(None);
        }
        let header = HeaderResult::parse(&buf[..seen]);
        let (len, source) = match &header {
            HeaderResult::V1(Ok(header)) => (header.header.len(), v1_source(&header.addresses)),
            HeaderResult::V2(Ok(header)) => {
                // LOCAL: the balancer's own connection (a health check), not a client's.
                let local = header.command == ppp::v2::Command::Local;
                let source = if local {
                    None
                } else {
                    v2_source(&header.addresses)
                };
                (header.len(), source)
            }
            _ if header.is_incomplete() && seen < MAX_HEADER => {
                // More is coming (rare: a balancer sends its header in one segment). What was
                // peeked is still there, so the socket reads as ready: look again shortly.
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
            _ => return Ok(None),
        };
        let mut header_bytes = vec![0; len];
        stream.read_exact(&mut header_bytes).await?;
        return Ok(Some(source.unwrap_or(peer)));
    }
}

fn v1_source(addresses: &ppp::v1::Addresses) -> Option<SocketAddr> {
    match addresses {
        ppp::v1::Addresses::Tcp4(a) => {
            Some(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v1::Addresses::Tcp6(a) => {
            Some(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v1::Addresses::Unknown => None,
    }
}

fn v2_source(addresses: &ppp::v2::Addresses) -> Option<SocketAddr> {
    match addresses {
        ppp::v2::Addresses::IPv4(a) => {
            Some(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v2::Addresses::IPv6(a) => {
            Some(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v2::Addresses::Unix(_) | ppp::v2::Addresses::Unspecified => None,
    }
}
