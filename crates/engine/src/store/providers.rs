//! The `providers` table: providers the person defined. Catalog providers are not rows
//! here; deleting any provider removes its provider app and everything on it.

use rusqlite::{params, OptionalExtension, Row};

use super::{from_columns, json_list, list_column, unless_taken, ProviderAppRow, Store, TableRow};
use crate::provider::Endpoints;
use crate::{Result, Timestamp};

/// A provider the person defined (by issuer or by endpoints).
#[derive(Debug, Clone)]
pub struct CustomProviderRow {
    pub id: String,
    pub name: String,
    pub issuer: Option<String>,
    /// As typed, or from discovery (which also names its device sign-in and the keys its
    /// ID tokens are signed with, where it has them).
    pub endpoints: Endpoints,
    pub scopes: Vec<String>,
    pub created_at: Timestamp,
    /// Its configuration promises `iss` in authorization responses (RFC 9207).
    pub issuer_in_responses: bool,
    /// What its configuration says it signs ID tokens with; empty: not said.
    pub id_token_algorithms: Vec<String>,
    /// The resource identifier (RFC 8707) of the URL it was made for, for the
    /// authorization server of a resource connected by URL (see `resources.rs`); None for
    /// a provider the person added.
    pub resource: Option<String>,
}

/// What became of a custom provider to add.
#[derive(Debug, PartialEq, Eq)]
pub enum Inserted {
    Added,
    NameTaken,
    /// The named provider has its issuer.
    IssuerTaken(String),
}

impl TableRow for CustomProviderRow {
    const SELECT: &'static str = "SELECT id, name, issuer, authorize_url, token_url, userinfo_url,
        revocation_url, scopes, created_at, device_authorization_url, jwks_url, issuer_in_responses,
        coalesce(id_token_algorithms, '[]') AS id_token_algorithms,
        (SELECT coalesce(identifier, url) FROM resources r WHERE r.provider_id = providers.id) AS resource
        FROM providers";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(from_columns!(row => CustomProviderRow {
            id, name, issuer, created_at, issuer_in_responses, resource;
            endpoints: from_columns!(row => Endpoints {
                authorize_url, token_url, userinfo_url, revocation_url, device_authorization_url, jwks_url
            }),
            scopes: list_column(row, "scopes")?,
            id_token_algorithms: list_column(row, "id_token_algorithms")?
        }))
    }
}

impl CustomProviderRow {
    /// Adds the row, or renews the endpoints, scopes and issuer of the one with its id
    /// (a resource discovered again).
    pub(super) fn upsert(&self, db: &rusqlite::Connection) -> rusqlite::Result<()> {
        db.execute(
            "INSERT INTO providers (id, name, issuer, authorize_url, token_url, userinfo_url,
                revocation_url, scopes, created_at, device_authorization_url, jwks_url,
                issuer_in_responses, id_token_algorithms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (id) DO UPDATE SET issuer = ?3, authorize_url = ?4, token_url = ?5,
                userinfo_url = ?6, revocation_url = ?7, scopes = ?8, issuer_in_responses = ?12",
            params![
                self.id,
                self.name,
                self.issuer,
                self.endpoints.authorize_url,
                self.endpoints.token_url,
                self.endpoints.userinfo_url,
                self.endpoints.revocation_url,
                json_list(&self.scopes),
                self.created_at,
                self.endpoints.device_authorization_url,
                self.endpoints.jwks_url,
                self.issuer_in_responses,
                json_list(&self.id_token_algorithms),
            ],
        )
        .map(drop)
    }
}

impl Store {
    pub fn custom_providers(&self) -> Result<Vec<CustomProviderRow>> {
        self.rows("ORDER BY name", [])
    }

    /// A custom provider by id or by name (case-insensitive).
    pub fn custom_provider(&self, key: &str) -> Result<Option<CustomProviderRow>> {
        self.first_row("WHERE id = ?1 OR name = ?1 COLLATE NOCASE", [key])
    }

    /// Adds a custom provider with its provider app, in one transaction, unless another
    /// provider has its name or its issuer (one added elsewhere since it was checked).
    pub fn insert_custom_provider(
        &self,
        provider: &CustomProviderRow,
        app: &ProviderAppRow,
    ) -> Result<Inserted> {
        self.with(|db| {
            let tx = db.transaction()?;
            if let Some(issuer) = provider.issuer.as_deref().filter(|_| provider.resource.is_none()) {
                let holder = tx
                    .query_row(
                        "SELECT name FROM providers p WHERE rtrim(p.issuer, '/') = rtrim(?1, '/')
                            AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.provider_id = p.id)",
                        [issuer],
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(name) = holder {
                    return Ok(Inserted::IssuerTaken(name));
                }
            }
            if unless_taken(provider.upsert(&tx))?.is_none() {
                return Ok(Inserted::NameTaken);
            }
            app.upsert(&tx, app.created_at)?;
            tx.commit().map(|()| Inserted::Added)
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
                let keys = statement.query_map([provider_id], |row| row.get("token_secret_key"))?;
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
