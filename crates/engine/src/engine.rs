//! The engine: one per process, shared by the window and the CLI.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::events::EventBus;
use crate::flow::RunningFlows;
use crate::http::HttpClient;
use crate::model::ActivityEvent;
use crate::model::Connection;
use crate::refresh::RefreshLocks;
use crate::store::Store;
use crate::vault::{SecretStore, Vault};
use crate::{Config, EngineEvent, Error, Result};

pub struct Engine {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) vault: Vault,
    pub(crate) http: HttpClient,
    pub(crate) events: EventBus,
    pub(crate) flows: RunningFlows,
    pub(crate) refresh_locks: RefreshLocks,
    /// Wakes the scheduler when the machine resumes or the network returns.
    pub(crate) wake: tokio::sync::Notify,
}

impl Engine {
    /// Opens (and migrates) the database in `config.home`; secrets go to `secrets`.
    pub fn open(config: Config, secrets: Arc<dyn SecretStore>) -> Result<Arc<Self>> {
        if !config.home.exists() {
            std::fs::create_dir_all(&config.home).map_err(|e| Error::Storage {
                path: config.home.display().to_string(),
                reason: e.to_string(),
            })?;
            restrict_to_owner(&config.home);
        }
        let store = Store::open(&config.database_path())?;
        Ok(Arc::new(Engine {
            store,
            vault: Vault::new(secrets),
            http: HttpClient::new()?,
            events: EventBus::new(),
            flows: RunningFlows::default(),
            refresh_locks: RefreshLocks::default(),
            wake: tokio::sync::Notify::new(),
            config,
        }))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    pub fn connections(&self) -> Result<Vec<Connection>> {
        Ok(self.store.connections()?.into_iter().map(|c| self.decorate(c)).collect())
    }

    /// A connection by id or by name.
    pub fn connection(&self, key: &str) -> Result<Connection> {
        let mut found = self.store.connections_matching(key)?;
        match found.len() {
            0 => Err(Error::NotFound { what: "connection", key: key.to_owned() }),
            1 => Ok(self.decorate(found.remove(0))),
            _ => Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "Several connections are named “{key}”; use an id instead: {}",
                    found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// The activity log, newest first.
    pub fn activity(&self, limit: usize) -> Result<Vec<ActivityEvent>> {
        self.store.events(limit)
    }
}

/// The data directory holds metadata only, but it is still nobody else's business.
fn restrict_to_owner(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
    }
    #[cfg(not(unix))]
    let _ = path;
}
