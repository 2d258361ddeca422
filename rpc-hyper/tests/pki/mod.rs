//! Certificates for the TLS tests, made by the test (rcgen): a CA, and certificates it signs
//! for servers and clients, valid or expired.
#![allow(dead_code)] // each test uses its part

use rcgen::{CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority of the test's own.
pub(crate) struct Ca {
    key: KeyPair,
    cert: rcgen::Certificate,
    /// Its certificate, DER.
    pub(crate) der: CertificateDer<'static>,
    /// Its certificate, PEM.
    pub(crate) pem: String,
}

/// A certificate the CA signed, and its key.
pub(crate) struct Leaf {
    /// The certificate, alone in its chain.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    /// Its key, PKCS#8.
    pub(crate) key: PrivateKeyDer<'static>,
    /// The certificate, PEM.
    pub(crate) cert_pem: String,
    /// The key, PEM.
    pub(crate) key_pem: String,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self {
            der: cert.der().clone(),
            pem: cert.pem(),
            key,
            cert,
        }
    }

    /// A certificate for `names` (DNS names or IP addresses), with `common_name` as its
    /// subject's; out of date if `expired`.
    pub(crate) fn issue(&self, names: &[&str], common_name: &str, expired: bool) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let names = names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

impl Ca {
    /// A tokio-rustls connector (ring) trusting this CA alone, showing `identity` if given.
    pub(crate) fn connector(&self, identity: Option<&Leaf>) -> tokio_rustls::TlsConnector {
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(self.client_config(identity)))
    }

    /// A rustls client configuration (ring) trusting this CA alone, showing `identity` if
    /// given.
    pub(crate) fn client_config(&self, identity: Option<&Leaf>) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        #[allow(deprecated)]
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        match identity {
            Some(leaf) => builder
                .with_client_auth_cert(leaf.chain.clone(), leaf.key.clone_key())
                .unwrap(),
            None => builder.with_no_client_auth(),
        }
    }
}

/// A CA and a server certificate it signs for `names`.
pub(crate) struct Pki {
    pub(crate) ca: CertificateDer<'static>,
    pub(crate) ca_pem: String,
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
}

pub(crate) fn pki(names: &[&str], expired: bool) -> Pki {
    let ca = Ca::new("test CA");
    let leaf = ca.issue(names, "server", expired);
    Pki {
        ca: ca.der,
        ca_pem: ca.pem,
        chain: leaf.chain,
        key: leaf.key,
    }
}
