//! The `provider_apps` table: the person's client registration at each provider.

use rusqlite::{params, Connection as Db, Row};

use super::{from_columns, Store, TableRow};
use crate::catalog::ClientAuth;
use crate::provider::EndpointOverrides;
use crate::{Result, Timestamp};

/// A provider app: the person's client registration at one provider.
#[derive(Debug, Clone)]
pub struct ProviderAppRow {
    pub id: String,
    /// A catalog provider id or a custom provider's id.
    pub provider_id: String,
    pub client_id: String,
    /// Keychain entry of the client secret, if the provider app has one.
    pub client_secret_key: Option<String>,
    pub client_secret_last4: Option<String>,
    pub enabled: bool,
    /// GitHub Enterprise URL, GitLab base URL, Microsoft tenant; None: the default.
    pub site: Option<String>,
    pub overrides: EndpointOverrides,
    /// How token requests carry the client credentials; None: the provider's own.
    pub client_auth: Option<ClientAuth>,
    pub created_at: Timestamp,
    /// Why it needs the person (its client credentials were rejected), if it does.
    pub attention: Option<String>,
    /// The read-only file it comes from, for a provider app an organisation supplies
    /// (`provider::supplied_apps`); None for the person's own, a row of this table.
    pub supplied_from: Option<std::path::PathBuf>,
}

#[cfg(any(test, feature = "fuzzing"))]
impl ProviderAppRow {
    /// A public client with nothing overridden, as unit tests and fuzz targets need one.
    pub(crate) fn public_client(provider_id: &str, client_id: &str) -> Self {
        ProviderAppRow {
            id: format!("{provider_id}-app"),
            provider_id: provider_id.into(),
            client_id: client_id.into(),
            client_secret_key: None,
            client_secret_last4: None,
            enabled: true,
            site: None,
            overrides: EndpointOverrides::default(),
            client_auth: None,
            created_at: Timestamp::now(),
            attention: None,
            supplied_from: None,
        }
    }
}

impl TableRow for ProviderAppRow {
    const SELECT: &'static str = "SELECT id, provider_id, client_id, client_secret_key,
        client_secret_last4, enabled, site, authorize_url, token_url, revocation_url, userinfo_url, created_at,
        attention, jwks_url, device_authorization_url, client_auth FROM provider_apps";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(from_columns!(row => ProviderAppRow {
            id, provider_id, client_id, client_secret_key, client_secret_last4, enabled, site, created_at,
            attention, client_auth;
            overrides: from_columns!(row => EndpointOverrides {
                authorize_url, token_url, revocation_url, userinfo_url, jwks_url, device_authorization_url
            }),
            supplied_from: None
        }))
    }
}

impl ProviderAppRow {
    /// Adds or replaces the provider app of `self.provider_id`; a replaced one no longer
    /// needs attention.
    pub(super) fn upsert(&self, db: &Db, updated_at: Timestamp) -> rusqlite::Result<()> {
        db.execute(
            "INSERT INTO provider_apps (id, provider_id, client_id, client_secret_key,
                client_secret_last4, enabled, site, authorize_url, token_url, revocation_url,
                userinfo_url, created_at, updated_at, jwks_url, device_authorization_url, client_auth)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (provider_id) DO UPDATE SET client_id = excluded.client_id,
                client_secret_key = excluded.client_secret_key,
                client_secret_last4 = excluded.client_secret_last4, enabled = excluded.enabled,
                site = excluded.site, authorize_url = excluded.authorize_url,
                token_url = excluded.token_url, revocation_url = excluded.revocation_url,
                userinfo_url = excluded.userinfo_url, jwks_url = excluded.jwks_url,
                device_authorization_url = excluded.device_authorization_url,
                client_auth = excluded.client_auth, updated_at = excluded.updated_at, attention = NULL",
            params![
                self.id,
                self.provider_id,
                self.client_id,
                self.client_secret_key,
                self.client_secret_last4,
                self.enabled,
                self.site,
                self.overrides.authorize_url,
                self.overrides.token_url,
                self.overrides.revocation_url,
                self.overrides.userinfo_url,
                self.created_at,
                updated_at,
                self.overrides.jwks_url,
                self.overrides.device_authorization_url,
                self.client_auth,
            ],
        )
        .map(drop)
    }
}

impl Store {
    pub fn provider_apps(&self) -> Result<Vec<ProviderAppRow>> {
        self.rows("ORDER BY created_at", [])
    }

    pub fn provider_app(&self, provider_id: &str) -> Result<Option<ProviderAppRow>> {
        self.first_row("WHERE provider_id = ?1", [provider_id])
    }

    /// Adds or replaces the provider app of `app.provider_id`.
    pub fn save_provider_app(&self, app: &ProviderAppRow, updated_at: Timestamp) -> Result<()> {
        self.with(|db| app.upsert(db, updated_at))
    }

    /// The provider rejected this provider app's client credentials.
    pub fn flag_provider_app(&self, provider_id: &str, reason: &str) -> Result<()> {
        self.execute(
            "UPDATE provider_apps SET attention = ?2 WHERE provider_id = ?1",
            params![provider_id, reason],
        )
        .map(drop)
    }

    /// The provider app worked: whatever needed attention is resolved. Returns whether
    /// anything changed.
    pub fn clear_provider_app_attention(&self, provider_id: &str) -> Result<bool> {
        self.execute(
            "UPDATE provider_apps SET attention = NULL WHERE provider_id = ?1 AND attention IS NOT NULL",
            [provider_id],
        )
        .map(|changed| changed > 0)
    }
}
