//! A verified client's certificate, as the call context holds it, and the little of X.509
//! a method needs to authorize by it: its subject, and the subject's common name.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;

/// The certificate chain a client proved it holds the key of (mutual TLS), verified against
/// the roots given to [`ServerTls::require_client_certificates`](super::ServerTls::require_client_certificates):
/// in the context of every call of its connection (a request's extension, so tower layers see
/// it too). A method reads it with `Ext<'_, ClientCertificate>`.
///
/// ```
/// use rpc_core::{rpc_method, Ext};
/// use rpc_hyper::tls::ClientCertificate;
///
/// /// Who the caller is, by its certificate.
/// #[rpc_method]
/// fn whoami(client: Ext<'_, ClientCertificate>) -> String {
///     client.common_name().unwrap_or("(no common name)").to_owned()
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertificate {
    chain: Arc<[CertificateDer<'static>]>,
}

impl ClientCertificate {
    /// The chain as the client sent it: its own certificate first. `None` when it is empty.
    pub(crate) fn new(chain: &[CertificateDer<'_>]) -> Option<Self> {
        if chain.is_empty() {
            return None;
        }
        let chain = chain.iter().map(|der| der.clone().into_owned()).collect();
        Some(Self { chain })
    }

    /// The client's own certificate, DER.
    pub fn der(&self) -> &[u8] {
        // Never empty: `new` refuses an empty chain.
        self.chain.first().map_or(&[], |der| der.as_ref())
    }

    /// The whole chain as the client sent it, its own certificate first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The subject of the client's certificate, as its DER `Name`.
    pub fn subject_der(&self) -> Option<&[u8]> {
        subject(self.der())
    }

    /// The subject's common name (`CN`), when it has one written as text.
    pub fn common_name(&self) -> Option<&str> {
        common_name(self.subject_der()?)
    }
}

/// A DER value's tag, its contents, and what follows it; `None` for anything this reader does
/// not take (a long tag, an indefinite or over-long length, a value past the end).
fn next(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let len = bytes
            .iter()
            .fold(0usize, |len, &b| len << 8 | usize::from(b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;

/// The subject `Name` of a certificate: `Certificate ::= SEQUENCE { tbsCertificate, .. }`,
/// `TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
/// validity, subject, .. }` (RFC 5280, section 4.1).
fn subject(certificate: &[u8]) -> Option<&[u8]> {
    let (SEQUENCE, certificate, _) = next(certificate)? else {
        return None;
    };
    let (SEQUENCE, mut tbs, _) = next(certificate)? else {
        return None;
    };
    let (tag, _, rest) = next(tbs)?;
    if tag == 0xa0 {
        tbs = rest; // the version
    }
    for _ in 0..4 {
        tbs = next(tbs)?.2; // serial, signature, issuer, validity
    }
    let start = tbs;
    let (SEQUENCE, _, rest) = next(tbs)? else {
        return None;
    };
    Some(&start[..start.len() - rest.len()])
}

/// The first common name (OID 2.5.4.3) of a `Name`, written as UTF-8, printable or IA5 text.
fn common_name(name: &[u8]) -> Option<&str> {
    const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
    let (SEQUENCE, mut rdns, _) = next(name)? else {
        return None;
    };
    while !rdns.is_empty() {
        let (tag, mut set, rest) = next(rdns)?;
        rdns = rest;
        if tag != SET {
            return None;
        }
        while !set.is_empty() {
            let (SEQUENCE, pair, rest) = next(set)? else {
                return None;
            };
            set = rest;
            let (0x06, oid, value) = next(pair)? else {
                return None;
            };
            if oid != COMMON_NAME {
                continue;
            }
            let (0x0c | 0x13 | 0x16, text, _) = next(value)? else {
                return None;
            };
            return std::str::from_utf8(text).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_common_name_of_a_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["client.test".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "client-a");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let client = ClientCertificate::new(&[cert.der().clone()]).unwrap();
        assert_eq!(client.common_name(), Some("client-a"));
        assert_eq!(client.der(), cert.der().as_ref());
        assert_eq!(client.chain().len(), 1);
    }

    #[test]
    fn takes_no_certificate_and_garbage_without_a_panic() {
        assert_eq!(ClientCertificate::new(&[]), None);
        for garbage in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x03\x30\x01",
        ] {
            let client = ClientCertificate::new(&[CertificateDer::from(garbage.to_vec())]);
            assert_eq!(client.unwrap().common_name(), None);
        }
        // Every prefix of a real certificate.
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["c".into()]).unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        for len in 0..der.len() {
            let client = ClientCertificate::new(&[CertificateDer::from(der[..len].to_vec())]);
            assert_eq!(client.unwrap().common_name(), None, "prefix of {len} bytes");
        }
        // Every byte of it changed, three ways: the inner lengths and tags go wrong too.
        for at in 0..der.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = der.clone();
                bad[at] ^= flip;
                let client = ClientCertificate::new(&[CertificateDer::from(bad)]).unwrap();
                let _ = (client.subject_der(), client.common_name());
            }
        }
    }
}
