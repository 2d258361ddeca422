//! rustls configurations: the crypto provider both sides use, and what a server's
//! configuration is made from (its certificate, its key, the roots its clients' certificates
//! must chain to), to make it again when the files change.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// rustls' ring provider, with X25519 first among the key exchanges (ring lists secp384r1
/// first, a handshake about three times slower).
///
/// rustls 0.23.48 marks ring's provider deprecated for having no post-quantum key exchange;
/// ring stays the default for its build cost (a user wanting ML-KEM hands over an aws-lc-rs
/// configuration of their own).
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[allow(deprecated)]
    let mut provider = rustls::crypto::ring::default_provider();
    provider.kx_groups.sort_by_key(|group| match group.name() {
        rustls::NamedGroup::X25519 => 0,
        rustls::NamedGroup::secp256r1 => 1,
        _ => 2,
    });
    Arc::new(provider)
}

/// The TLS versions offered and accepted: 1.3 and 1.2.
pub(crate) const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// What a server's configuration is made from.
#[derive(Clone)]
pub(super) enum Recipe {
    /// A configuration of the user's, used as it is.
    Given,
    /// A certificate chain and key, from files or given.
    Made {
        identity: Identity,
        /// The roots a client's certificate must chain to, and whether one is required.
        clients: Option<(Vec<CertificateDer<'static>>, bool)>,
    },
}

#[derive(Clone)]
pub(super) enum Identity {
    Files { cert: PathBuf, key: PathBuf },
    Pem { cert: Vec<u8>, key: Vec<u8> },
}

impl Recipe {
    pub(super) fn files(cert: &Path, key: &Path) -> Self {
        Recipe::Made {
            identity: Identity::Files {
                cert: cert.to_owned(),
                key: key.to_owned(),
            },
            clients: None,
        }
    }

    pub(super) fn pem(cert: &[u8], key: &[u8]) -> Self {
        Recipe::Made {
            identity: Identity::Pem {
                cert: cert.to_vec(),
                key: key.to_vec(),
            },
            clients: None,
        }
    }

    pub(super) fn has_files(&self) -> bool {
        matches!(
            self,
            Recipe::Made {
                identity: Identity::Files { .. },
                ..
            }
        )
    }

    pub(super) fn set_client_roots(&mut self, pem: &[u8], required: bool) -> io::Result<()> {
        let Recipe::Made { clients, .. } = self else {
            return Err(invalid(
                "a configuration of your own says itself how clients are verified",
            ));
        };
        *clients = Some((certificates(pem, "the client roots")?, required));
        Ok(())
    }

    /// The configuration: ring, TLS 1.3 and 1.2, the identity, and the client verifier.
    pub(super) fn build(&self) -> io::Result<Arc<ServerConfig>> {
        let Recipe::Made { identity, clients } = self else {
            return Err(invalid("nothing to make the configuration from"));
        };
        let (chain, key) = identity.read()?;
        let provider = provider();
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(VERSIONS)
            .map_err(io::Error::other)?;
        let builder = match clients {
            None => builder.with_no_client_auth(),
            Some((roots, required)) => {
                let mut store = RootCertStore::empty();
                for root in roots {
                    store
                        .add(root.clone())
                        .map_err(|err| invalid(format!("a client root: {err}")))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(store.into(), provider);
                let verifier = if *required {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                let verifier = verifier
                    .build()
                    .map_err(|err| invalid(format!("the client verifier: {err}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder
            .with_single_cert(chain, key)
            .map_err(|err| invalid(format!("the certificate and key: {err}")))?;
        Ok(Arc::new(config))
    }
}

impl Identity {
    fn read(&self) -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let (cert, key) = match self {
            Identity::Files { cert, key } => {
                let read = |path: &Path| {
                    std::fs::read(path).map_err(|err| {
                        io::Error::new(err.kind(), format!("{}: {err}", path.display()))
                    })
                };
                (read(cert)?, read(key)?)
            }
            Identity::Pem { cert, key } => (cert.clone(), key.clone()),
        };
        let chain = certificates(&cert, "the certificate chain")?;
        let key = PrivateKeyDer::from_pem_slice(&key)
            .map_err(|err| invalid(format!("the private key: {err}")))?;
        Ok((chain, key))
    }
}

/// Every certificate of `pem`, at least one.
fn certificates(pem: &[u8], what: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(format!("{what}: {err}")))?;
    if chain.is_empty() {
        return Err(invalid(format!("{what}: no certificate in the PEM")));
    }
    Ok(chain)
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}
