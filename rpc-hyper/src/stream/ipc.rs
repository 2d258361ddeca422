//! The Unix-socket listener: binding a path safely, and removing it once done.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rpc_core::PeerCred;
use tokio::net::{UnixListener, UnixSocket, UnixStream};

use crate::accept::Listen;

/// The mode a socket file is created with by default: 0600, only its owner may connect.
pub const DEFAULT_IPC_MODE: u32 = 0o600;

/// A Unix-socket listener bound to a path, for [`serve_ipc`](super::serve_ipc).
///
/// Binding refuses a path a live server holds (`AddrInUse`) and a path that is not a socket
/// (`AlreadyExists`); a stale socket file (nothing listens on it) is replaced. The socket file
/// gets its mode before the listener takes connections, so no other user can slip in between.
/// Dropping the listener (the server stops) removes the file, if it is still the one it made.
#[derive(Debug)]
pub struct IpcListener {
    listener: UnixListener,
    path: PathBuf,
    /// The socket file's device and inode: the file removed on drop must be ours.
    file: (u64, u64),
}

impl IpcListener {
    /// Binds `path` with mode [`DEFAULT_IPC_MODE`] (0600).
    ///
    /// # Errors
    /// When a live server holds `path`, something other than a socket is there, or binding
    /// fails.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::bind_with_mode(path, DEFAULT_IPC_MODE)
    }

    /// Binds `path`, the socket file with permission bits `mode` (0660 lets the owner's group
    /// connect too).
    ///
    /// # Errors
    /// As [`IpcListener::bind`].
    pub fn bind_with_mode(path: impl AsRef<Path>, mode: u32) -> io::Result<Self> {
        let path = path.as_ref();
        clear_stale(path)?;
        let socket = UnixSocket::new_stream()?;
        socket.bind(path)?;
        // Not listening yet: a connection now is refused, so the mode is set before anyone
        // can connect.
        let listened = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .and_then(|()| socket.listen(crate::DEFAULT_BACKLOG));
        let listener = match listened {
            Ok(listener) => listener,
            Err(err) => {
                let _ = std::fs::remove_file(path);
                return Err(err);
            }
        };
        let meta = std::fs::symlink_metadata(path)?;
        Ok(Self {
            listener,
            path: path.to_owned(),
            file: (meta.dev(), meta.ino()),
        })
    }

    /// The path it is bound to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Makes way for a new socket at `path`: nothing there, or a stale socket (removed).
fn clear_stale(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("a server is listening on {}", path.display()),
        )),
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::debug!(path = %path.display(), "removing a stale socket file");
            std::fs::remove_file(path)
        }
        Err(err) => Err(err),
    }
}

impl Drop for IpcListener {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|meta| (meta.dev(), meta.ino()) == self.file);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Listen for IpcListener {
    type Io = UnixStream;
    type Peer = Option<PeerCred>;

    async fn accept(&self) -> io::Result<(UnixStream, Option<PeerCred>)> {
        let (stream, _) = self.listener.accept().await?;
        let peer = match stream.peer_cred() {
            Ok(cred) => Some(PeerCred::new(cred.uid(), cred.gid(), cred.pid())),
            Err(err) => {
                tracing::debug!(error = %err, "a Unix socket peer's credentials are unknown");
                None
            }
        };
        Ok((stream, peer))
    }
}
