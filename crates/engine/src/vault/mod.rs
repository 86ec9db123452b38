//! The vault: every secret Grantkeeper holds, in the OS keychain and nowhere else.
//! SQLite rows only name the keychain entry (`credential/<id>/<version>`).

mod keychain;
#[cfg(not(target_os = "linux"))]
mod os_keychain;
#[cfg(target_os = "linux")]
mod secret_service;
mod tokens;

use std::sync::Arc;

pub use keychain::Keychain;
pub use tokens::TokenSet;

use crate::{Error, Result, Secret};

/// A place that keeps secrets by name. The product uses [`Keychain`]; pass another
/// implementation only in unit tests of pure logic.
pub trait SecretStore: Send + Sync + 'static {
    fn read(&self, key: &str) -> Result<Option<Secret>>;
    fn write(&self, key: &str, value: &Secret) -> Result<()>;
    /// Deleting an entry that does not exist is not an error.
    fn delete(&self, key: &str) -> Result<()>;
}

/// Async face of a [`SecretStore`]: keychain calls block on D-Bus or the OS, so they
/// run on the blocking pool.
#[derive(Clone)]
pub struct Vault(Arc<dyn SecretStore>);

impl Vault {
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Vault(store)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn SecretStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .map_err(|e| Error::Internal(format!("keychain task failed: {e}")))?
    }

    pub async fn read(&self, key: &str) -> Result<Option<Secret>> {
        let key = key.to_owned();
        self.run(move |store| store.read(&key)).await
    }

    pub async fn write(&self, key: &str, value: Secret) -> Result<()> {
        let key = key.to_owned();
        self.run(move |store| store.write(&key, &value)).await
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.run(move |store| store.delete(&key)).await
    }

    /// A credential's tokens; None when the entry is missing, or changed outside
    /// Grantkeeper so that it holds no tokens it can read: either way there are none to use.
    pub async fn read_tokens(&self, key: &str) -> Result<Option<TokenSet>> {
        let Some(secret) = self.read(key).await? else { return Ok(None) };
        let tokens = TokenSet::decode(&secret);
        if tokens.is_none() {
            tracing::warn!(key, "a keychain entry of Grantkeeper holds no tokens it can read");
        }
        Ok(tokens)
    }

    pub async fn write_tokens(&self, key: &str, tokens: &TokenSet) -> Result<()> {
        self.write(key, tokens.encode()).await
    }
}

/// Name of a fresh keychain entry for a credential's token set. Each write goes to a
/// new entry, so the previous one stays intact until SQLite points at the new one.
pub fn new_token_key(credential_id: &str) -> String {
    format!("credential/{credential_id}/{}", uuid::Uuid::new_v4().simple())
}

/// An entry that is never written: reading it tells whether the keychain answers.
pub fn keychain_probe_key() -> String {
    "probe/keychain-available".to_owned()
}

/// Name of a fresh keychain entry for a provider app's client secret; a changed
/// secret goes to a new entry so the old one stays until SQLite names the new one.
pub fn new_client_secret_key(provider_app_id: &str) -> String {
    format!("provider-app/{provider_app_id}/client-secret/{}", uuid::Uuid::new_v4().simple())
}
