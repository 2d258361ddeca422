//! TLS for the server (the `tls` feature): [`ServerTls`], handed to
//! [`Serve::tls`](crate::Serve::tls) (HTTP/1.1, h2 by ALPN with the `http2` feature, and
//! `wss://`, on one port) or to the stream transport's TCP listener; and
//! [`ClientCertificate`], a verified client's certificate in the call context.
//!
//! rustls on ring, named explicitly, never the process's default provider (which another crate
//! may have set, or made ambiguous by linking aws-lc-rs too); TLS 1.3 and 1.2; X25519 first
//! among the key exchanges. A configuration of your own ([`ServerTls::from_config`]) is used
//! as it is, so an application that builds rustls on aws-lc-rs builds no ring for us.
//!
//! # Certificate rotation
//! A [`ServerTls`] is a handle: its clones share one configuration, and every new connection
//! takes the one current when it opens. Keep a clone, and when the certificate is renewed,
//! call [`ServerTls::reload`] (which reads the PEM files again) or
//! [`ServerTls::set_config`]: connections opened from then on use the new certificate, open
//! ones keep theirs, and nothing restarts. The calculator example reloads on `SIGHUP`.
//!
//! # Memory
//! A TLS connection holds rustls' session for its life, parked or not: its receive buffer
//! (4 KiB or more) and state of a few KiB, beside what a cleartext connection costs (a
//! parked one about 2 KiB). During a handshake rustls may buffer a client's handshake
//! message up to 64 KiB: with the connection limit at its default, 4,096 handshakes at once
//! hold at most 256 MiB, each for no longer than the handshake timeout.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use rpc_hyper::tls::ServerTls;
//!
//! let tls = ServerTls::from_pem_files("cert.pem", "key.pem")?;
//! let rotate = tls.clone();
//! # #[cfg(unix)]
//! tokio::spawn(async move {
//!     let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
//!     while hangups.recv().await.is_some() {
//!         if let Err(err) = rotate.reload() {
//!             eprintln!("keeping the old certificate: {err}");
//!         }
//!     }
//!     Ok::<_, std::io::Error>(())
//! });
//! let listener = rpc_hyper::bind("0.0.0.0:8443".parse()?)?;
//! rpc_hyper::serve(listener, rpc_core::Router::new()).tls(tls).await?;
//! # Ok(())
//! # }
//! ```

mod accept;
mod certificate;
mod config;

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use rustls::ServerConfig;

pub(crate) use accept::{handshake, Acceptor};
pub use certificate::ClientCertificate;
use config::Recipe;
#[cfg(feature = "client")]
pub(crate) use config::{provider, VERSIONS};

/// How long a TLS handshake may take by default, from the connection: 10 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server's TLS: its certificate and key, whether it asks clients for theirs, and how long
/// a handshake may take. Clones share one configuration: see [rotation](self#certificate-rotation).
#[derive(Clone)]
pub struct ServerTls {
    shared: Arc<Shared>,
    handshake_timeout: Duration,
}

struct Shared {
    /// What the configuration is made from, to make it again on a reload.
    recipe: Mutex<Recipe>,
    /// The configuration new connections take.
    current: RwLock<Arc<ServerConfig>>,
    /// Counts the changes of `current`, so each server's own copy (its ALPN set) follows it.
    generation: AtomicU64,
    /// The connections that did not speak TLS, for the rate-limited warning.
    not_tls: accept::NotTls,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// TLS with the certificate chain in `cert` (PEM, the server's own certificate first, then
    /// its intermediates) and the private key in `key` (PEM: PKCS#8, PKCS#1 or SEC1). The
    /// files are read again by [`ServerTls::reload`].
    ///
    /// # Errors
    /// When a file cannot be read, holds no certificate or no key, or the key does not fit.
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> io::Result<Self> {
        Self::from_recipe(Recipe::files(cert.as_ref(), key.as_ref()))
    }

    /// TLS with the certificate chain and key given as PEM text (see
    /// [`ServerTls::from_pem_files`]).
    ///
    /// # Errors
    /// When the text holds no certificate or no key, or the key does not fit.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> io::Result<Self> {
        Self::from_recipe(Recipe::pem(cert, key))
    }

    /// TLS with a configuration of your own (another provider, a certificate resolver, session
    /// tickets), used as it is; only its ALPN protocols are set, by each server that uses it,
    /// when it names none.
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        let shared = Shared {
            recipe: Mutex::new(Recipe::Given),
            current: RwLock::new(config),
            generation: AtomicU64::new(0),
            not_tls: accept::NotTls::new(),
        };
        Self {
            shared: Arc::new(shared),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    fn from_recipe(recipe: Recipe) -> io::Result<Self> {
        let config = recipe.build()?;
        let tls = Self::from_config(config);
        *lock(&tls.shared.recipe) = recipe;
        Ok(tls)
    }

    /// Asks every client for a certificate and refuses the handshake of one that has none
    /// signed by a root of `roots` (PEM: one or more CA certificates): mutual TLS. The
    /// verified certificate is in each call's context, a [`ClientCertificate`].
    ///
    /// It changes the configuration every clone shares (a server already using one takes it
    /// from its next connection), and [`ServerTls::reload`] keeps it.
    ///
    /// # Errors
    /// When `roots` holds no certificate, or one that is not a CA's; or with
    /// [`ServerTls::from_config`] (say it in your configuration).
    pub fn require_client_certificates(self, roots: &[u8]) -> io::Result<Self> {
        self.client_roots(roots, true)
    }

    /// As [`ServerTls::require_client_certificates`], but a client that sends no certificate
    /// is let in (and its calls have no [`ClientCertificate`]); one that sends an unverifiable
    /// certificate is still refused.
    ///
    /// # Errors
    /// As for [`ServerTls::require_client_certificates`].
    pub fn allow_client_certificates(self, roots: &[u8]) -> io::Result<Self> {
        self.client_roots(roots, false)
    }

    fn client_roots(self, roots: &[u8], required: bool) -> io::Result<Self> {
        {
            let mut recipe = lock(&self.shared.recipe);
            let mut asked = recipe.clone();
            asked.set_client_roots(roots, required)?;
            let config = asked.build()?;
            *recipe = asked;
            self.replace(config);
        }
        Ok(self)
    }

    /// Sets how long a handshake may take ([`DEFAULT_HANDSHAKE_TIMEOUT`] by default), from
    /// the connection. It counts against the connection limit: a client that opens a
    /// connection and says nothing holds its slot no longer than this. The header read
    /// timeout starts once the handshake is over. Unlike the configuration, it is this
    /// handle's own, taken by the server it is given to.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Reads the PEM files again (see [`ServerTls::from_pem_files`]): connections opened from
    /// then on use what they hold. On an error, the configuration in use is kept.
    ///
    /// # Errors
    /// When the files cannot be read or do not make a configuration; or when this TLS was
    /// not made from files.
    pub fn reload(&self) -> io::Result<()> {
        let recipe = lock(&self.shared.recipe);
        if !recipe.has_files() {
            return Err(io::Error::other("this TLS was not made from files"));
        }
        let config = recipe.build()?;
        self.replace(config);
        Ok(())
    }

    /// Replaces the configuration: connections opened from then on use `config`.
    pub fn set_config(&self, config: Arc<ServerConfig>) {
        *lock(&self.shared.recipe) = Recipe::Given;
        self.replace(config);
    }

    fn replace(&self, config: Arc<ServerConfig>) {
        *self
            .shared
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = config;
        self.shared.generation.fetch_add(1, Ordering::Release);
    }

    /// The configuration in use, and its generation.
    fn current(&self) -> (u64, Arc<ServerConfig>) {
        let generation = self.shared.generation.load(Ordering::Acquire);
        let config = self
            .shared
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        (generation, Arc::clone(&config))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
