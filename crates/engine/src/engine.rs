//! The engine: one per process, shared by the window and the CLI.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::events::EventBus;
use crate::flow::RunningFlows;
use crate::http::HttpClient;
use crate::model::{ActivityEvent, EventKind};
use crate::model::{Connection, NewProvider, Provider};
use crate::provider::{self, EndpointsInput};
use crate::refresh::RefreshLocks;
use crate::store::{NewEvent, ProviderRecord, Store};
use crate::time_text::{now, rfc3339};
use crate::vault::{self, SecretStore, Vault};
use crate::{Config, EngineEvent, Error, Result, Secret};

pub struct Engine {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) vault: Vault,
    pub(crate) http: HttpClient,
    pub(crate) events: EventBus,
    pub(crate) flows: RunningFlows,
    pub(crate) refresh_locks: RefreshLocks,
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
            config,
        }))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    pub fn providers(&self) -> Result<Vec<Provider>> {
        Ok(self.store.providers()?.iter().map(ProviderRecord::view).collect())
    }

    /// Adds a custom provider and its provider app. Nothing is saved unless every check
    /// passes; the client secret goes to the keychain before the row that names it.
    #[tracing::instrument(skip_all, fields(name = %input.name), err(Display))]
    pub async fn add_provider(&self, input: NewProvider) -> Result<Provider> {
        let checked = provider::check(&input)?;
        if self.store.provider_name_taken(&checked.name)? {
            return Err(Error::AlreadyExists(format!(
                "A provider named “{}” already exists. Choose another name.",
                checked.name
            )));
        }
        let (issuer, authorize_url, token_url, userinfo_url, revocation_url) = match checked.endpoints {
            EndpointsInput::Issuer(issuer) => {
                let found = provider::discover(&self.http, &issuer).await?;
                (
                    Some(found.issuer),
                    found.authorize_url,
                    found.token_url,
                    found.userinfo_url,
                    found.revocation_url,
                )
            }
            EndpointsInput::Manual { authorize_url, token_url } => {
                (None, authorize_url, token_url, None, None)
            }
        };
        let client_secret =
            input.client_secret.map(|s| s.into_secret()).filter(|s| !s.expose().trim().is_empty());
        let app_id = uuid::Uuid::new_v4().to_string();
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name: checked.name,
            issuer,
            authorize_url: authorize_url.to_string(),
            token_url: token_url.to_string(),
            userinfo_url: userinfo_url.map(String::from),
            revocation_url: revocation_url.map(String::from),
            scopes: checked.scopes,
            client_id: checked.client_id,
            client_secret_key: client_secret.as_ref().map(|_| vault::client_secret_key(&app_id)),
            client_secret_last4: client_secret.as_ref().and_then(Secret::last4),
            app_id,
            created_at: rfc3339(now()),
        };
        if let (Some(key), Some(secret)) = (&record.client_secret_key, client_secret) {
            self.vault.write(key, secret).await?;
        }
        if let Err(error) = self.store.insert_provider(&record) {
            if let Some(key) = &record.client_secret_key {
                let _ = self.vault.delete(key).await;
            }
            return Err(error);
        }
        self.events.publish(EngineEvent::ProvidersChanged);
        Ok(record.view())
    }

    /// The provider app's client secret, when it has one. A secret that should be there
    /// but is not is an error: sending the request without it would only be refused.
    pub(crate) async fn client_secret(&self, provider: &ProviderRecord) -> Result<Option<Secret>> {
        let Some(key) = &provider.client_secret_key else { return Ok(None) };
        let secret = self.vault.read(key).await?.ok_or_else(|| {
            Error::KeychainUnavailable(format!(
                "the client secret of {} is missing from the keychain. Add the provider again.",
                provider.name
            ))
        })?;
        Ok(Some(secret))
    }

    /// Removes a provider that no connection uses, with its client secret.
    pub async fn remove_provider(&self, key: &str) -> Result<()> {
        let provider = self.store.provider(key)?;
        let in_use = self.store.connection_count_for_provider(&provider.id)?;
        if in_use > 0 {
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "{} still has {in_use} connection(s). Remove them first, then the provider.",
                    provider.name
                ),
            });
        }
        self.store.delete_provider(&provider.id)?;
        if let Some(secret_key) = &provider.client_secret_key {
            self.vault.delete(secret_key).await?;
        }
        self.events.publish(EngineEvent::ProvidersChanged);
        Ok(())
    }

    pub fn connections(&self) -> Result<Vec<Connection>> {
        self.store.connections()
    }

    /// A connection by id or by name.
    pub fn connection(&self, key: &str) -> Result<Connection> {
        let mut found = self.store.connections_matching(key)?;
        match found.len() {
            0 => Err(Error::NotFound { what: "connection", key: key.to_owned() }),
            1 => Ok(found.remove(0)),
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

    /// Removes a connection; its credential and keychain entry go too when no other
    /// connection shares them.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn remove_connection(&self, key: &str) -> Result<()> {
        let connection = self.connection(key)?;
        let unreferenced = self.store.delete_connection(&connection.id)?;
        let at = rfc3339(now());
        self.store.record_event(&NewEvent {
            kind: EventKind::ConnectionRemoved,
            at: &at,
            credential_id: None,
            connection_id: Some(&connection.id),
            subject: Some(&connection.name),
            detail: None,
        })?;
        if let Some(token_key) = unreferenced {
            self.vault.delete(&token_key).await?;
        }
        self.events.publish(EngineEvent::ConnectionsChanged);
        Ok(())
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
