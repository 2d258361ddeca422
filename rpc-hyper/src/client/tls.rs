//! TLS for the client (the `tls` feature): rustls on ring, named explicitly (never the
//! process's default provider, which another crate may have set, or made ambiguous), with the
//! Mozilla roots compiled in (webpki-roots) and the builder's own roots beside them, or a
//! configuration of the user's.
//!
//! Why the compiled-in roots by default: they are the same on every machine and container
//! (an image without a CA bundle still reaches public endpoints), need no system library, and
//! cost one small crate. The `tls-native-roots` feature adds the platform's store beside
//! them (rustls-native-certs: an enterprise's own roots, as the system has them); a
//! verifier that asks the platform itself (revocation, the OS's policy) is a configuration
//! the user builds with `rustls-platform-verifier` and hands over
//! ([`ClientBuilder::tls_config`](super::ClientBuilder::tls_config)).
//!
//! What each choice costs a clean release build of tokio with tokio-rustls, measured on the
//! 2-core machine this is built on (tokio alone: 5.8 s, 6 crates): ring with webpki-roots
//! 19.8 s and 18 crates; ring with rustls-platform-verifier 20.3 s and 21; aws-lc-rs with
//! webpki-roots 40.6 s and 17.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::error::{Error, Kind};
use super::io::Io;

/// How long a TLS handshake may take.
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS side of a client's transport: how to connect, and the name to check.
#[derive(Clone)]
pub(super) struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What the builder says of TLS.
#[derive(Clone, Debug, Default)]
pub(super) struct Settings {
    /// Roots trusted beside the compiled-in ones (a private CA).
    pub(super) roots: Vec<CertificateDer<'static>>,
    /// The user's own configuration, used as it is (its ALPN set by the client).
    pub(super) config: Option<Arc<ClientConfig>>,
    /// A certificate chain (DER, the client's own first) and its private key (PKCS#8 DER),
    /// for a server that asks for one (mutual TLS).
    pub(super) identity: Option<(Vec<CertificateDer<'static>>, Vec<u8>)>,
}

impl Tls {
    /// TLS to `host`, offering `alpn` (`http/1.1`, or `h2`).
    pub(super) fn new(settings: &Settings, host: &str, alpn: &[u8]) -> Result<Self, Error> {
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
            .map_err(|err| Error::new(Kind::Tls(format!("not a server name: {host}: {err}"))))?
            .to_owned();
        let mut config = match &settings.config {
            Some(config) => ClientConfig::clone(config),
            None => default_config(&settings.roots, settings.identity.as_ref())?,
        };
        config.alpn_protocols = vec![alpn.to_vec()];
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            name,
        })
    }

    /// The handshake over `tcp`, within [`HANDSHAKE_TIMEOUT`].
    pub(super) async fn connect(&self, tcp: TcpStream) -> Result<Io, Error> {
        let handshake = self.connector.connect(self.name.clone(), tcp);
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Ok(Ok(tls)) => Ok(Io::Tls(Box::new(tls))),
            Ok(Err(err)) => Err(Error::new(Kind::Tls(describe(&err)))),
            Err(_) => Err(Error::new(Kind::Tls(format!(
                "the handshake timed out after {} s",
                HANDSHAKE_TIMEOUT.as_secs()
            )))),
        }
    }
}

/// rustls with ring: TLS 1.3 and 1.2, X25519 first among the key exchanges, the compiled-in
/// roots and `extra`.
fn default_config(
    extra: &[CertificateDer<'static>],
    identity: Option<&(Vec<CertificateDer<'static>>, Vec<u8>)>,
) -> Result<ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "tls-native-roots")]
    for root in native_roots() {
        // A platform root webpki cannot use is passed over, as browsers do.
        let _ = roots.add(root.clone());
    }
    for root in extra {
        roots
            .add(root.clone())
            .map_err(|err| Error::new(Kind::Tls(format!("a root certificate: {err}"))))?;
    }
    let builder = ClientConfig::builder_with_provider(crate::tls::provider())
        .with_protocol_versions(crate::tls::VERSIONS)
        .map_err(|err| Error::new(Kind::Tls(err.to_string())))?
        .with_root_certificates(roots);
    let Some((chain, key)) = identity else {
        return Ok(builder.with_no_client_auth());
    };
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.clone().into());
    builder
        .with_client_auth_cert(chain.clone(), key)
        .map_err(|err| Error::new(Kind::Tls(format!("the client certificate: {err}"))))
}

/// The platform's trusted roots, read once per process (a few milliseconds: a directory of
/// PEM files on Linux). What cannot be read is logged, and the rest used.
#[cfg(feature = "tls-native-roots")]
fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for err in &found.errors {
            tracing::debug!(error = %err, "a platform root certificate could not be read");
        }
        found.certs
    })
}

/// Why a handshake failed, in words.
fn describe(err: &std::io::Error) -> String {
    use rustls::{CertificateError, Error as TlsError};
    let Some(tls) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsError>())
    else {
        return format!("the handshake failed: {err}");
    };
    match tls {
        TlsError::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "unknown issuer: the server's certificate is signed by no trusted root".into()
        }
        TlsError::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "name mismatch: the server's certificate is for another host".into(),
        TlsError::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "expired: the server's certificate is out of date".into(),
        TlsError::InvalidCertificate(other) => format!("an invalid certificate: {other:?}"),
        TlsError::PeerIncompatible(why) => format!("protocol mismatch: {why:?}"),
        TlsError::AlertReceived(alert) => format!("the server refused the handshake: {alert:?}"),
        other => format!("the handshake failed: {other}"),
    }
}
