//! The engine: one per process, shared by the window and the CLI.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::agent::{ConsentBroker, TokenMemory};
use crate::api::ActivityEvent;
use crate::api::Connection;
use crate::credential::RefreshLocks;
use crate::http::HttpClient;
use crate::oauth::RunningFlows;
use crate::runtime::EventBus;
use crate::store::Store;
use crate::vault::{SecretStore, Vault};
use crate::{Config, EngineEvent, Error, Result};

pub struct Engine {
    /// This engine, for work that must outlive the call that started it (a refresh).
    pub(crate) me: std::sync::Weak<Engine>,
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) vault: Vault,
    pub(crate) http: HttpClient,
    pub(crate) events: EventBus,
    pub(crate) flows: RunningFlows,
    pub(crate) refresh_locks: RefreshLocks,
    /// Wakes the scheduler when the machine resumes or the network returns.
    pub(crate) wake: tokio::sync::Notify,
    /// The token agent's open prompts and the tokens it handed out.
    pub(crate) consent: ConsentBroker,
    pub(crate) handed_out: TokenMemory,
}

impl Engine {
    /// Opens (and migrates) the database in `config.home`; secrets go to `secrets`.
    pub fn open(config: Config, secrets: Arc<dyn SecretStore>) -> Result<Arc<Self>> {
        crate::data_dir::create_private_dir(&config.home)?;
        let store = Store::open(&config.database_path())?;
        let http = HttpClient::new()?;
        Ok(Arc::new_cyclic(|me| Engine {
            me: me.clone(),
            store,
            vault: Vault::new(secrets),
            http,
            events: EventBus::new(),
            flows: RunningFlows::default(),
            refresh_locks: RefreshLocks::default(),
            wake: tokio::sync::Notify::new(),
            consent: ConsentBroker::default(),
            handed_out: TokenMemory::default(),
            config,
        }))
    }

    /// The data directory.
    pub fn home(&self) -> &std::path::Path {
        &self.config.home
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    pub fn connections(&self) -> Result<Vec<Connection>> {
        Ok(self.store.connections()?.into_iter().map(|c| self.decorate(c)).collect())
    }

    /// A connection by id (first) or name; failing that, by its integration (id or name)
    /// or a prefix of its id or name, when only one connection matches.
    pub fn connection(&self, key: &str) -> Result<Connection> {
        if key.trim().is_empty() {
            return Err(Error::invalid(
                "connection",
                "Name a connection: its name or its id, as `grantkeeper list` shows them.",
            ));
        }
        let mut exact = self.store.connections_matching(key)?;
        // An id names one connection whatever another is called.
        if let Some(by_id) = exact.iter().position(|c| c.id == key.trim()) {
            exact = vec![exact.swap_remove(by_id)];
        }
        let found = if exact.is_empty() {
            let wanted = key.trim().to_lowercase();
            let all = self.connections()?;
            let by_integration: Vec<Connection> = all
                .iter()
                .filter(|c| {
                    c.integration.to_lowercase() == wanted || c.integration_name.to_lowercase() == wanted
                })
                .cloned()
                .collect();
            if by_integration.is_empty() && !wanted.is_empty() {
                all.into_iter()
                    .filter(|c| c.id.starts_with(&wanted) || c.name.to_lowercase().starts_with(&wanted))
                    .collect()
            } else {
                by_integration
            }
        } else {
            exact
        };
        match <[Connection; 1]>::try_from(found) {
            Ok([one]) => Ok(self.decorate(one)),
            Err(found) if found.is_empty() => {
                Err(Error::NotFound { what: "connection", key: key.to_owned() })
            }
            Err(found) => Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "“{key}” could mean {}; use the whole name or the id.",
                    found.iter().map(|c| format!("“{}” ({})", c.name, c.id)).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// A connection by its whole name, id or integration, never by a prefix: for what
    /// cannot be undone (`doing`: "remove it").
    pub(crate) fn connection_named_whole(&self, key: &str, doing: &str) -> Result<Connection> {
        let connection = self.connection(key)?;
        let whole = [&connection.id, &connection.name, &connection.integration, &connection.integration_name];
        if !whole.iter().any(|name| name.eq_ignore_ascii_case(key.trim())) {
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "“{key}” is only the start of “{}”. To {doing}, give its whole name or its id.",
                    connection.name
                ),
            });
        }
        Ok(connection)
    }

    /// The activity log, newest first.
    pub fn activity(&self, limit: usize) -> Result<Vec<ActivityEvent>> {
        self.store.events(limit)
    }

    /// The activity of one connection (by id or name, as `connection` finds it) and of
    /// its sign-in, newest first.
    pub fn connection_activity(&self, key: &str, limit: usize) -> Result<Vec<ActivityEvent>> {
        let connection = self.connection(key)?;
        self.store.connection_events(&connection.id, limit)
    }
}
