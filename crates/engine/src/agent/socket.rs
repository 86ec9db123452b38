//! The token agent's transport on Unix: a socket in a folder only the person can enter.
//! The kernel names the process at the other end (its peer credentials); its uid must
//! be the person's.

use std::path::Path;

use tokio::net::UnixStream;

/// A caller's connection, as the agent holds it.
#[cfg(target_os = "linux")]
pub(super) type Accepted = UnixStream;

/// The agent listening at its socket.
#[cfg(target_os = "linux")]
pub(super) struct Listener(tokio::net::UnixListener);

#[cfg(target_os = "linux")]
impl Listener {
    /// Listens at `path`, replacing a socket file left by an agent that is gone; one
    /// that an agent still answers on is an error.
    pub(super) fn bind(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};

        let folder = path.parent().ok_or_else(|| std::io::Error::other("the socket needs a folder"))?;
        std::fs::create_dir_all(folder)?;
        let owner = std::fs::metadata(folder)?.uid();
        if owner != rustix::process::geteuid().as_raw() {
            return Err(std::io::Error::other(format!("{} belongs to another user", folder.display())));
        }
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))?;
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "another Grantkeeper serves there",
                ));
            }
            // Left by an app that was killed: nobody answers on it.
            std::fs::remove_file(path)?;
        }
        let listener = tokio::net::UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Self(listener))
    }

    pub(super) async fn accept(&mut self) -> std::io::Result<Accepted> {
        self.0.accept().await.map(|(stream, _)| stream)
    }
}

/// Removes the socket file once the agent stopped serving.
#[cfg(target_os = "linux")]
pub(super) fn unbind(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// The calling program, when the caller is one of the person's own processes.
#[cfg(target_os = "linux")]
pub(super) fn caller(stream: &Accepted) -> Result<crate::api::Program, String> {
    let credentials = stream.peer_cred().map_err(|e| format!("no peer credentials: {e}"))?;
    let own = rustix::process::geteuid().as_raw();
    if credentials.uid() != own {
        return Err(format!("uid {} is not the person's ({own})", credentials.uid()));
    }
    let pid = credentials.pid().and_then(|pid| u32::try_from(pid).ok()).ok_or("no peer pid")?;
    super::peer::program_of(pid).map_err(|e| format!("the caller's program cannot be told: {e}"))
}

/// A connection to the agent at `path`; None when nothing serves there.
pub(super) async fn connect(path: &Path) -> crate::Result<Option<UnixStream>> {
    Ok(UnixStream::connect(path).await.ok())
}
