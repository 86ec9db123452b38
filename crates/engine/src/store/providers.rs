//! Provider apps and custom providers.

use rusqlite::{params, OptionalExtension};

use super::records::{self, CustomProviderRow, ProviderAppRow};
use super::{json_list, Store};
use crate::Result;

impl Store {
    pub fn provider_apps(&self) -> Result<Vec<ProviderAppRow>> {
        self.with(|db| {
            let mut statement = db.prepare(&format!("{} ORDER BY created_at", records::APP_SELECT))?;
            let rows = statement.query_map([], records::app_from_row)?;
            rows.collect()
        })
    }

    pub fn provider_app(&self, provider_id: &str) -> Result<Option<ProviderAppRow>> {
        self.with(|db| {
            db.query_row(
                &format!("{} WHERE provider_id = ?1", records::APP_SELECT),
                [provider_id],
                records::app_from_row,
            )
            .optional()
        })
    }

    /// Adds or replaces the provider app of `app.provider_id`.
    pub fn save_provider_app(&self, app: &ProviderAppRow, updated_at: &str) -> Result<()> {
        self.with(|db| upsert_app(db, app, updated_at))
    }

    /// Adds a custom provider with its provider app, in one transaction.
    pub fn insert_custom_provider(&self, provider: &CustomProviderRow, app: &ProviderAppRow) -> Result<()> {
        self.with(|db| {
            let tx = db.transaction()?;
            tx.execute(
                "INSERT INTO providers (id, name, issuer, authorize_url, token_url, userinfo_url,
                    revocation_url, scopes, created_at, device_authorization_url, jwks_url)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    provider.id,
                    provider.name,
                    provider.issuer,
                    provider.authorize_url,
                    provider.token_url,
                    provider.userinfo_url,
                    provider.revocation_url,
                    json_list(&provider.scopes),
                    provider.created_at,
                    provider.device_authorization_url,
                    provider.jwks_url,
                ],
            )?;
            upsert_app(&tx, app, &app.created_at)?;
            tx.commit()
        })
    }

    /// The provider rejected this provider app's client credentials.
    pub fn flag_provider_app(&self, provider_id: &str, reason: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE provider_apps SET attention = ?2 WHERE provider_id = ?1",
                params![provider_id, reason],
            )
            .map(drop)
        })
    }

    /// The provider app worked: whatever needed attention is resolved. Returns whether
    /// anything changed.
    pub fn clear_provider_app_attention(&self, provider_id: &str) -> Result<bool> {
        self.with(|db| {
            db.execute(
                "UPDATE provider_apps SET attention = NULL WHERE provider_id = ?1 AND attention IS NOT NULL",
                [provider_id],
            )
            .map(|changed| changed > 0)
        })
    }

    pub fn custom_providers(&self) -> Result<Vec<CustomProviderRow>> {
        self.with(|db| {
            let mut statement = db.prepare(&format!("{} ORDER BY name", records::CUSTOM_SELECT))?;
            let rows = statement.query_map([], records::custom_from_row)?;
            rows.collect()
        })
    }

    /// A custom provider by id or by name (case-insensitive).
    pub fn custom_provider(&self, key: &str) -> Result<Option<CustomProviderRow>> {
        self.with(|db| {
            db.query_row(
                &format!("{} WHERE id = ?1 OR name = ?1 COLLATE NOCASE", records::CUSTOM_SELECT),
                [key],
                records::custom_from_row,
            )
            .optional()
        })
    }

    pub fn connection_count_for_provider(&self, provider_id: &str) -> Result<usize> {
        self.with(|db| {
            db.query_row(
                "SELECT count(*) FROM connections c JOIN credentials k ON k.id = c.credential_id
                 WHERE k.provider_id = ?1",
                [provider_id],
                |row| row.get(0),
            )
        })
    }

    /// Deletes a provider app (and the custom provider, if it is one) with every
    /// connection and credential on it. Returns the keychain entries no longer
    /// referenced (token sets), for the caller to delete.
    pub fn delete_provider(&self, provider_id: &str) -> Result<Vec<String>> {
        self.with(|db| {
            let tx = db.transaction()?;
            let token_keys = {
                let mut statement =
                    tx.prepare("SELECT token_secret_key FROM credentials WHERE provider_id = ?1")?;
                let keys = statement.query_map([provider_id], |row| row.get(0))?;
                keys.collect::<rusqlite::Result<Vec<String>>>()?
            };
            tx.execute(
                "DELETE FROM connections WHERE credential_id IN
                    (SELECT id FROM credentials WHERE provider_id = ?1)",
                [provider_id],
            )?;
            tx.execute("DELETE FROM credentials WHERE provider_id = ?1", [provider_id])?;
            tx.execute("DELETE FROM provider_apps WHERE provider_id = ?1", [provider_id])?;
            tx.execute("DELETE FROM providers WHERE id = ?1", [provider_id])?;
            tx.commit()?;
            Ok(token_keys)
        })
    }
}

fn upsert_app(db: &rusqlite::Connection, app: &ProviderAppRow, updated_at: &str) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO provider_apps (id, provider_id, client_id, client_secret_key,
            client_secret_last4, enabled, site, authorize_url, token_url, revocation_url,
            userinfo_url, created_at, updated_at, jwks_url)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (provider_id) DO UPDATE SET client_id = excluded.client_id,
            client_secret_key = excluded.client_secret_key,
            client_secret_last4 = excluded.client_secret_last4, enabled = excluded.enabled,
            site = excluded.site, authorize_url = excluded.authorize_url,
            token_url = excluded.token_url, revocation_url = excluded.revocation_url,
            userinfo_url = excluded.userinfo_url, jwks_url = excluded.jwks_url,
            updated_at = excluded.updated_at, attention = NULL",
        params![
            app.id,
            app.provider_id,
            app.client_id,
            app.client_secret_key,
            app.client_secret_last4,
            app.enabled,
            app.site,
            app.overrides.authorize_url,
            app.overrides.token_url,
            app.overrides.revocation_url,
            app.overrides.userinfo_url,
            app.created_at,
            updated_at,
            app.overrides.jwks_url,
        ],
    )
    .map(drop)
}
