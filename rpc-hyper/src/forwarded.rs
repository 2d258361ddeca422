//! The client's address behind proxies the user trusts: read from `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`, only when the connection comes from one of them. A leaf: the
//! connection's service wrapper applies it to each request.

use std::fmt;
use std::net::IpAddr;

use http::header::FORWARDED;
use http::HeaderMap;

/// The proxies (load balancers, reverse proxies) whose forwarding headers are believed:
/// addresses and networks in CIDR notation. Given to
/// [`Serve::trusted_proxies`](crate::Serve::trusted_proxies); never guessed, so that a client
/// cannot name its own address by sending the headers itself.
///
/// ```
/// use rpc_hyper::TrustedProxies;
///
/// let proxies = TrustedProxies::new(["10.0.0.0/8", "192.168.1.7", "fd00::/8"])?;
/// assert!(proxies.contains("10.1.2.3".parse()?));
/// assert!(!proxies.contains("11.0.0.1".parse()?));
/// assert!(TrustedProxies::new(["10.0.0.0/33"]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
    /// Whether the proxies write `Forwarded` (RFC 7239), not `X-Forwarded-For`.
    rfc7239: bool,
}

/// A proxy that is neither an address nor a network in CIDR notation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidProxy(pub String);

impl fmt::Display for InvalidProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an IP address or CIDR network: {:?}", self.0)
    }
}

impl std::error::Error for InvalidProxy {}

impl TrustedProxies {
    /// The proxies at `networks`: each an address (`10.0.0.7`, `::1`) or a network
    /// (`10.0.0.0/8`, `fd00::/8`).
    pub fn new<I>(networks: I) -> Result<Self, InvalidProxy>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let networks = networks
            .into_iter()
            .map(|text| {
                parse_network(text.as_ref()).ok_or_else(|| InvalidProxy(text.as_ref().into()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            networks,
            rfc7239: false,
        })
    }

    /// Reads `Forwarded` (RFC 7239) instead of `X-Forwarded-For`, the header most balancers
    /// write (AWS's, nginx's usual setup, HAProxy's `forwardfor`). Only the header the
    /// proxies write is read: one they pass through untouched is the client's to fill in.
    #[must_use]
    pub fn forwarded_header(mut self) -> Self {
        self.rfc7239 = true;
        self
    }

    /// Whether `addr` is one of the proxies. An IPv4 address mapped into IPv6 is matched as
    /// the IPv4 address it is.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.networks
            .iter()
            .any(|&(network, len)| in_network(addr, network, len))
    }

    /// The client's address for a request from `peer` with `headers`: walking the
    /// forwarding chain from the nearest hop outwards, the first address that is not a
    /// trusted proxy, when `peer` is one; `peer` itself otherwise. Only the hops our proxies
    /// wrote are read, so what a client puts farther out cannot matter: a hop among them that
    /// cannot be read (`unknown`, an obfuscated name, a malformed entry) leaves `peer`. When
    /// every hop is a proxy of ours, the farthest is the best known.
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let (name, read): (_, HopReader) = if self.rfc7239 {
            (FORWARDED.as_str(), forwarded_for)
        } else {
            ("x-forwarded-for", |hop| parse_hop(hop.trim_ascii()))
        };
        let lines: Vec<&[u8]> = headers.get_all(name).iter().map(|v| v.as_bytes()).collect();
        let mut farthest = None;
        for hop in lines.iter().rev().flat_map(|&line| split(line).rev()) {
            match read(hop) {
                None => return peer,
                Some(hop) if !self.contains(hop) => return hop,
                Some(hop) => farthest = Some(hop),
            }
        }
        farthest.unwrap_or(peer)
    }
}

/// The client's address as [`Serve::trusted_proxies`](crate::Serve::trusted_proxies) tells
/// it, in every request's extensions (and so in the calls' context,
/// `cx.get::<ClientAddr>()`) when trusted proxies are set: the address behind the proxies
/// for a request that came through them, the peer's own otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

/// Reads one hop of a forwarding header.
type HopReader = fn(&[u8]) -> Option<IpAddr>;

/// The comma-separated elements of a header value.
fn split(value: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    value.split(|&b| b == b',')
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.60;proto=http`), as an address.
fn forwarded_for(element: &[u8]) -> Option<IpAddr> {
    let value = element.split(|&b| b == b';').find_map(|pair| {
        let pair = pair.trim_ascii();
        let (name, value) = pair.split_at(pair.iter().position(|&b| b == b'=')?);
        name.eq_ignore_ascii_case(b"for")
            .then(|| value[1..].trim_ascii())
    })?;
    let value = value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(value);
    parse_hop(value)
}

/// One hop's address: `[2001:db8::1]:4711`, `[2001:db8::1]`, `2001:db8::1`,
/// `192.0.2.43:47011` or `192.0.2.43` (some proxies write the port in `X-Forwarded-For`).
fn parse_hop(value: &[u8]) -> Option<IpAddr> {
    if let Some(rest) = value.strip_prefix(b"[") {
        let end = rest.iter().position(|&b| b == b']')?;
        return parse_ip(&rest[..end]);
    }
    if let Some(ip) = parse_ip(value) {
        return Some(ip);
    }
    // An IPv4 address and a port (an IPv6 address without brackets parsed above).
    let colon = value.iter().position(|&b| b == b':')?;
    let ip = parse_ip(&value[..colon]).filter(IpAddr::is_ipv4)?;
    std::str::from_utf8(&value[colon + 1..])
        .ok()?
        .parse::<u16>()
        .ok()?;
    Some(ip)
}

fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(text).ok()?.parse().ok().map(canonical)
}

fn parse_network(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let written: IpAddr = addr.trim().parse().ok()?;
    let max = if written.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    if len > max {
        return None;
    }
    // A network of IPv4 addresses mapped into IPv6 is matched as the IPv4 network it is.
    let addr = canonical(written);
    match (written, addr) {
        (IpAddr::V6(_), IpAddr::V4(_)) => Some((addr, len.checked_sub(96)?)),
        _ => Some((addr, len)),
    }
}

/// An IPv4 address mapped into IPv6 as the IPv4 address.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

fn in_network(addr: IpAddr, network: IpAddr, len: u8) -> bool {
    let prefix = |bits: u128, width: u32| {
        let len = u32::from(len);
        if len == 0 {
            0
        } else {
            bits >> (width - len)
        }
    };
    match (addr, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            prefix(u128::from(u32::from(a)), 32) == prefix(u128::from(u32::from(n)), 32)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => prefix(u128::from(a), 128) == prefix(u128::from(n), 128),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
