//! One app per data directory. The first launch holds a lock file there and listens on
//! a local socket; a second launch finds the lock taken, asks the first to show its
//! window, and exits — two apps on one database would both refresh and notify.

use std::fs::File;
use std::io;
#[cfg(unix)]
use std::io::{Read, Write};
use std::path::Path;

use grantkeeper_engine::data_dir;

/// What a later launch says on the socket; other systems have no socket yet.
#[cfg(unix)]
const SHOW: &[u8] = b"show\n";

/// Held for the app's lifetime: the lock, and on Unix the socket that hears "show".
pub struct FirstInstance {
    _lock: File,
    #[cfg(unix)]
    listener: std::os::unix::net::UnixListener,
}

pub enum Launch {
    First(FirstInstance),
    /// Another app already runs on this data directory (and was asked to show itself).
    Second,
}

/// `show`: a later launch asks the first to show its window (not one started in the
/// background).
pub fn claim(home: &Path, show: bool) -> io::Result<Launch> {
    // Owner-only from the start: this runs before the engine opens the directory.
    data_dir::create_private_dir(home).map_err(io::Error::other)?;
    let lock = data_dir::open_lock_file(&home.join("app.lock"))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            if show {
                ask_first_to_show(home);
            }
            return Ok(Launch::Second);
        }
        Err(std::fs::TryLockError::Error(error)) => return Err(error),
    }
    #[cfg(unix)]
    {
        let socket = home.join("app.sock");
        // Left behind by an app that was killed; the lock says nobody uses it.
        let _ = std::fs::remove_file(&socket);
        let listener = std::os::unix::net::UnixListener::bind(&socket)?;
        Ok(Launch::First(FirstInstance { _lock: lock, listener }))
    }
    #[cfg(not(unix))]
    Ok(Launch::First(FirstInstance { _lock: lock }))
}

fn ask_first_to_show(home: &Path) {
    #[cfg(unix)]
    if let Ok(mut stream) = std::os::unix::net::UnixStream::connect(home.join("app.sock")) {
        let _ = stream.write_all(SHOW);
    }
    #[cfg(not(unix))]
    let _ = home;
}

impl FirstInstance {
    /// Calls `show` whenever a later launch asks; runs on its own thread.
    pub fn serve(self, show: impl Fn() + Send + 'static) {
        std::thread::spawn(move || {
            let instance = self;
            #[cfg(unix)]
            for stream in instance.listener.incoming().flatten() {
                let mut request = [0u8; 8];
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                if let Ok(n) = stream.read(&mut request) {
                    if &request[..n] == SHOW {
                        show();
                    }
                }
            }
            #[cfg(not(unix))]
            let _ = (&instance, &show);
            // Keeps the lock until the process ends.
            std::thread::park();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_the_same_directory_asks_the_first_to_show() {
        let home = tempfile::tempdir().unwrap();
        let Launch::First(first) = claim(home.path(), true).unwrap() else { panic!("the first claim wins") };
        let (shown_tx, shown_rx) = std::sync::mpsc::channel();
        first.serve(move || shown_tx.send(()).unwrap());
        assert!(matches!(claim(home.path(), true).unwrap(), Launch::Second));
        shown_rx.recv_timeout(std::time::Duration::from_secs(5)).expect("the first was asked to show");
        // Another data directory is another app.
        let other = tempfile::tempdir().unwrap();
        assert!(matches!(claim(other.path(), true).unwrap(), Launch::First(_)));
    }

    #[cfg(unix)]
    #[test]
    fn the_first_claim_makes_the_data_directory_and_its_lock_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        // SAFETY: umask only sets the mask for files this process creates from now on;
        // 022 is the usual one, under which a plain create_dir_all makes 0755.
        unsafe { libc::umask(0o022) };
        let parent = tempfile::tempdir().unwrap();
        let home = parent.path().join("grantkeeper");
        let Launch::First(_first) = claim(&home, true).unwrap() else { panic!("the first claim wins") };
        assert_eq!(mode(&home), 0o700, "the data directory");
        assert_eq!(mode(&home.join("app.lock")), 0o600, "the lock file");
    }
}
