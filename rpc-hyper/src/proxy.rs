//! The PROXY protocol (HAProxy's, versions 1 and 2; the `proxy-protocol` feature): a
//! balancer that passes connections through (TLS included) names the client's address in a
//! header it sends first, and the server reads it before anything else, TLS's handshake
//! included. Only when configured: a header is then required on every connection, and one
//! that does not open with a valid header is closed.
//!
//! Read here rather than with a crate: the one there is brings a second `syn` into a build
//! with every feature on, and the header is small. Only the header's own bytes are taken
//! from the socket; what follows is TLS's or HTTP's.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The longest version 1 header, its CRLF included.
const MAX_V1: usize = 107;
/// The longest version 2 address block (and TLVs) taken; a header declaring more is refused.
const MAX_V2_PAYLOAD: usize = 1024;
/// What a version 2 header opens with.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// Reads the PROXY header `stream` opens with, within `timeout`, and consumes exactly its
/// bytes: the address of the client it names, `peer` for a `LOCAL` or `UNKNOWN` header (the
/// balancer's own health check), or `None` (the connection is to be closed) when there is no
/// valid header in time.
pub(crate) async fn read_header(
    stream: &mut TcpStream,
    peer: SocketAddr,
    timeout: Duration,
) -> Option<SocketAddr> {
    let why = match tokio::time::timeout(timeout, read(stream)).await {
        Ok(Ok(Some(source))) => return Some(source.unwrap_or(peer)),
        Ok(Ok(None)) => "the connection did not open with a valid PROXY header".to_owned(),
        Ok(Err(err)) => err.to_string(),
        Err(_) => "no PROXY header in time".to_owned(),
    };
    tracing::debug!(%peer, reason = %why, "a connection is closed before its first byte is served");
    None
}

/// The header's source address (`None` inside: the connection's own), or `None` for no valid
/// header.
async fn read(stream: &mut TcpStream) -> io::Result<Option<Option<SocketAddr>>> {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 0 {
        return Ok(None);
    }
    match first[0] {
        b'P' => read_v1(stream).await,
        b'\r' => read_v2(stream).await,
        _ => Ok(None),
    }
}

async fn read_v1(stream: &mut TcpStream) -> io::Result<Option<Option<SocketAddr>>> {
    let mut buf = [0u8; MAX_V1];
    // Most often the whole line is there already: take exactly it. Otherwise read on a byte
    // at a time, so that nothing past the line is taken.
    let seen = stream.peek(&mut buf).await?;
    let len = match buf[..seen].windows(2).position(|w| w == b"\r\n") {
        Some(end) => {
            stream.read_exact(&mut buf[..end + 2]).await?;
            end + 2
        }
        None => {
            let mut len = 0;
            loop {
                if len == MAX_V1 {
                    return Ok(None);
                }
                stream.read_exact(&mut buf[len..len + 1]).await?;
                len += 1;
                if buf[..len].ends_with(b"\r\n") {
                    break len;
                }
            }
        }
    };
    Ok(parse_v1(&buf[..len - 2]))
}

/// `PROXY TCP4 src dst sport dport`, `PROXY TCP6 ...` or `PROXY UNKNOWN ...`, without the CRLF.
fn parse_v1(line: &[u8]) -> Option<Option<SocketAddr>> {
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split(' ');
    if words.next()? != "PROXY" {
        return None;
    }
    let family = words.next()?;
    if family == "UNKNOWN" {
        return Some(None);
    }
    let (source, _destination) = (words.next()?, words.next()?);
    let (port, _destination_port) = (words.next()?, words.next()?);
    if words.next().is_some() {
        return None;
    }
    let ip: IpAddr = match family {
        "TCP4" => IpAddr::V4(source.parse::<Ipv4Addr>().ok()?),
        "TCP6" => IpAddr::V6(source.parse::<Ipv6Addr>().ok()?),
        _ => return None,
    };
    Some(Some(SocketAddr::new(ip, port.parse().ok()?)))
}

async fn read_v2(stream: &mut TcpStream) -> io::Result<Option<Option<SocketAddr>>> {
    let mut fixed = [0u8; 16];
    stream.read_exact(&mut fixed).await?;
    if &fixed[..12] != V2_SIGNATURE || fixed[12] >> 4 != 2 {
        return Ok(None);
    }
    let command = fixed[12] & 0x0f;
    let family = fixed[13];
    let len = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    if len > MAX_V2_PAYLOAD || command > 1 {
        return Ok(None);
    }
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await?;
    // LOCAL: the balancer's own connection (a health check), not a client's.
    if command == 0 {
        return Ok(Some(None));
    }
    let source = match family >> 4 {
        // TCP or UDP over IPv4: source, destination, source port, destination port.
        1 => payload.get(..12).map(|a| {
            let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
            SocketAddr::new(IpAddr::V4(ip), u16::from_be_bytes([a[8], a[9]]))
        }),
        2 => payload.get(..36).map(|a| {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&a[..16]);
            let ip = Ipv6Addr::from(octets);
            SocketAddr::new(IpAddr::V6(ip), u16::from_be_bytes([a[32], a[33]]))
        }),
        // Unspecified, or a Unix socket: the connection's own address stands.
        0 | 3 => return Ok(Some(None)),
        _ => return Ok(None),
    };
    // An address block shorter than its family's: not a valid header.
    Ok(source.map(Some))
}

#[cfg(test)]
mod tests {
    use super::parse_v1;

    #[test]
    fn version_1_lines_are_read_exactly() {
        let parsed = |line: &str| parse_v1(line.as_bytes());
        assert_eq!(
            parsed("PROXY TCP4 203.0.113.7 10.0.0.1 5555 80"),
            Some(Some("203.0.113.7:5555".parse().unwrap()))
        );
        assert_eq!(
            parsed("PROXY TCP6 2001:db8::7 2001:db8::1 4711 443"),
            Some(Some("[2001:db8::7]:4711".parse().unwrap()))
        );
        assert_eq!(parsed("PROXY UNKNOWN"), Some(None));
        assert_eq!(parsed("PROXY UNKNOWN ffff::1 ffff::2 1 2"), Some(None));
        for bad in [
            "PROXY TCP4 203.0.113.7 10.0.0.1 99999 80",
            "PROXY TCP4 1.2.3.4",
            "PROXY TCP4 2001:db8::7 10.0.0.1 1 2",
            "PROXY TCP6 1.2.3.4 1.2.3.5 1 2",
            "PROXY UDP4 1.2.3.4 1.2.3.5 1 2",
            "PROXY TCP4 1.2.3.4 1.2.3.5 1 2 extra",
            "GET / HTTP/1.1",
            "",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }
}
