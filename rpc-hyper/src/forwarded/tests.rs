//! Who the client is behind trusted proxies, and who it is not.

use super::*;
use http::HeaderValue;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for &(name, value) in pairs {
        headers.append(name, HeaderValue::from_static(value));
    }
    headers
}

fn proxies() -> TrustedProxies {
    TrustedProxies::new(["10.0.0.0/8", "2001:db8:ffff::/48", "192.168.1.7"]).unwrap()
}

#[test]
fn addresses_and_networks_are_matched_by_their_prefix() {
    let proxies = proxies();
    for inside in [
        "10.0.0.1",
        "10.255.255.255",
        "192.168.1.7",
        "2001:db8:ffff::1",
        "::ffff:10.1.1.1",
    ] {
        assert!(proxies.contains(ip(inside)), "{inside}");
    }
    for outside in [
        "11.0.0.0",
        "9.255.255.255",
        "192.168.1.8",
        "2001:db8:fffe::1",
        "::1",
    ] {
        assert!(!proxies.contains(ip(outside)), "{outside}");
    }
    let mapped = TrustedProxies::new(["::ffff:10.0.0.0/104"]).unwrap();
    assert!(mapped.contains(ip("10.1.2.3")) && !mapped.contains(ip("11.0.0.1")));
    assert!(TrustedProxies::new(["::ffff:10.0.0.0/95"]).is_err());
    let everyone = TrustedProxies::new(["0.0.0.0/0"]).unwrap();
    assert!(everyone.contains(ip("203.0.113.9")));
    assert!(!everyone.contains(ip("::2")));
    for bad in [
        "10.0.0.0/33",
        "::/129",
        "ten",
        "10.0.0.0/",
        "10.0.0.0/x",
        "",
    ] {
        assert_eq!(
            TrustedProxies::new([bad]).unwrap_err(),
            InvalidProxy(bad.into())
        );
    }
}

#[test]
fn a_peer_that_is_no_trusted_proxy_is_the_client_whatever_it_sends() {
    let sent = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
    assert_eq!(
        proxies().client(ip("203.0.113.9"), &sent),
        ip("203.0.113.9")
    );
    assert_eq!(
        TrustedProxies::default().client(ip("10.0.0.1"), &sent),
        ip("10.0.0.1")
    );
}

#[test]
fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
    let peer = ip("10.0.0.1");
    let xff = proxies();
    let rfc7239 = proxies().forwarded_header();
    type Case = (&'static [(&'static str, &'static str)], &'static str);
    let cases: &[(&TrustedProxies, &[Case])] = &[
        (
            &xff,
            &[
                (&[("x-forwarded-for", "203.0.113.9")], "203.0.113.9"),
                // A client that sends its own header: what it wrote is farther out, never read.
                (
                    &[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.2")],
                    "203.0.113.9",
                ),
                (
                    &[("x-forwarded-for", "not-an-address, 203.0.113.9")],
                    "203.0.113.9",
                ),
                (
                    &[("x-forwarded-for", "10.0.0.5, 203.0.113.9")],
                    "203.0.113.9",
                ),
                (
                    &[
                        ("x-forwarded-for", "6.6.6.6"),
                        ("x-forwarded-for", "203.0.113.9"),
                    ],
                    "203.0.113.9",
                ),
                // Every hop a proxy of ours: the farthest.
                (&[("x-forwarded-for", "10.0.0.3, 10.0.0.2")], "10.0.0.3"),
                (&[("x-forwarded-for", " 2001:db8::5 ")], "2001:db8::5"),
                // Ports, as some proxies write them.
                (&[("x-forwarded-for", "203.0.113.9:4711")], "203.0.113.9"),
                (
                    &[("x-forwarded-for", "[2001:db8::5]:4711, 10.0.0.2:80")],
                    "2001:db8::5",
                ),
                // `Forwarded` is not what these proxies write: a client's is not read.
                (&[("forwarded", "for=8.8.8.8")], "10.0.0.1"),
                // Nothing to go by, or a hop of ours that cannot be read: the peer.
                (&[], "10.0.0.1"),
                (
                    &[("x-forwarded-for", "203.0.113.9, not-an-address")],
                    "10.0.0.1",
                ),
                (&[("x-forwarded-for", "1.2.3.4:99999")], "10.0.0.1"),
            ],
        ),
        (
            &rfc7239,
            &[
                (
                    &[
                        ("forwarded", "for=198.51.100.17;proto=https, for=10.0.0.2"),
                        ("x-forwarded-for", "1.1.1.1"),
                    ],
                    "198.51.100.17",
                ),
                (
                    &[("forwarded", r#"For="[2001:db8:cafe::17]:4711""#)],
                    "2001:db8:cafe::17",
                ),
                (
                    &[("forwarded", "proto=http;for=192.0.2.43:47011;by=10.0.0.1")],
                    "192.0.2.43",
                ),
                (
                    &[("forwarded", "for=_hidden, for=203.0.113.9")],
                    "203.0.113.9",
                ),
                (&[("x-forwarded-for", "8.8.8.8")], "10.0.0.1"),
                (&[("forwarded", "for=unknown")], "10.0.0.1"),
                (&[("forwarded", "for=203.0.113.9, for=_hidden")], "10.0.0.1"),
                (&[("forwarded", "proto=https")], "10.0.0.1"),
            ],
        ),
    ];
    for &(proxies, cases) in cases {
        for &(sent, client) in cases {
            assert_eq!(proxies.client(peer, &headers(sent)), ip(client), "{sent:?}");
        }
    }
}
