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
        Ok(Self { networks })
    }

    /// Whether `addr` is one of the proxies. An IPv4 address mapped into IPv6 is matched as
    /// the IPv4 address it is.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.networks
            .iter()
            .any(|&(network, len)| in_network(addr, network, len))
    }

    /// The client's address for a request from `peer` with `headers`: the nearest address in
    /// the forwarding chain that is not a trusted proxy, when `peer` is one; `peer` itself
    /// otherwise, or when the chain cannot be read (a hop named `unknown` or by an obfuscated
    /// name, a malformed entry).
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let forwarded = headers.get_all(FORWARDED);
        let chain: Option<Vec<IpAddr>> = if forwarded.iter().next().is_some() {
            forwarded
                .iter()
                .flat_map(|value| split(value.as_bytes()))
                .map(forwarded_for)
                .collect()
        } else {
            headers
                .get_all("x-forwarded-for")
                .iter()
                .flat_map(|value| split(value.as_bytes()))
                .map(|hop| parse_ip(hop.trim_ascii()))
                .collect()
        };
        let Some(chain) = chain else {
            return peer;
        };
        // From the nearest hop outwards: the first that is not a proxy of ours is the client;
        // when every hop is, the farthest is the best known.
        chain
            .iter()
            .rev()
            .copied()
            .find(|&hop| !self.contains(hop))
            .or_else(|| chain.first().copied())
            .unwrap_or(peer)
    }
}

/// The client's address as [`Serve::trusted_proxies`](crate::Serve::trusted_proxies) tells
/// it, in every request's extensions (and so in the calls' context,
/// `cx.get::<ClientAddr>()`) when trusted proxies are set: the address behind the proxies
/// for a request that came through them, the peer's own otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

/// The comma-separated elements of a header value.
fn split(value: &[u8]) -> impl Iterator<Item = &[u8]> {
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
    // `[2001:db8::1]:4711`, `[2001:db8::1]`, `192.0.2.43:47011` or `192.0.2.43`.
    if let Some(rest) = value.strip_prefix(b"[") {
        let end = rest.iter().position(|&b| b == b']')?;
        return parse_ip(&rest[..end]);
    }
    let host = match value.iter().position(|&b| b == b':') {
        Some(colon) => &value[..colon],
        None => value,
    };
    parse_ip(host)
}

fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(text).ok()?.parse().ok().map(canonical)
}

fn parse_network(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let addr = canonical(addr.trim().parse().ok()?);
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((addr, len))
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
