//! Refresh locks: one async lock per credential within a process, and a lock file per
//! credential shared by every Grantkeeper process (the app and each CLI run), since a
//! rotating refresh token presented twice makes the provider revoke the grant.

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;
use tokio::time::{sleep, Instant};

use crate::{data_dir, Engine, Error, Result};

/// How often a refresh looks whether another process let go of the lock file.
const LOCK_POLL: Duration = Duration::from_millis(20);

#[derive(Default)]
pub(crate) struct RefreshLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl RefreshLocks {
    fn for_credential(&self, credential_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(credential_id.to_owned()).or_default().clone()
    }
}

/// Both locks on one credential; released when dropped.
pub(in crate::credential) struct RefreshGuard {
    _across_processes: File,
    _in_process: OwnedMutexGuard<()>,
}

impl Engine {
    /// Waits for this process's lock on the credential, then for every other process's.
    pub(in crate::credential) async fn lock_refresh(&self, credential_id: &str) -> Result<RefreshGuard> {
        let in_process = self.refresh_locks.for_credential(credential_id).lock_owned().await;
        let across_processes = self.lock_credential_file(credential_id).await?;
        Ok(RefreshGuard { _across_processes: across_processes, _in_process: in_process })
    }

    /// An exclusive lock on `locks/<credential>.lock` in the data directory; released
    /// when the returned file is dropped. Waits at most `refresh_lock_wait`: a lock held
    /// longer is a stuck process (or one that is not Grantkeeper), not a refresh.
    async fn lock_credential_file(&self, credential_id: &str) -> Result<File> {
        let dir = self.config.home.join("locks");
        let path = dir.join(format!("{credential_id}.lock"));
        let file = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                data_dir::create_private_dir(&dir)?;
                data_dir::open_lock_file(&path).map_err(|e| unusable(&path, e))
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))??
        };
        let waited = self.config.refresh_lock_wait;
        let deadline = Instant::now() + waited;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => sleep(LOCK_POLL).await,
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::RefreshLocked { path: path.display().to_string(), waited })
                }
                Err(TryLockError::Error(error)) => return Err(unusable(&path, error)),
            }
        }
    }
}

fn unusable(path: &Path, error: std::io::Error) -> Error {
    Error::Storage { path: path.display().to_string(), reason: error.to_string() }
}
