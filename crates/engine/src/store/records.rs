//! Rows as the engine uses them, and their mapping from SQL.

use rusqlite::Row;

use crate::model::{Connection, ConnectionStatus, Provider};

/// A provider joined with its provider app.
#[derive(Debug, Clone)]
pub struct ProviderRecord {
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub issuer: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: Option<String>,
    pub revocation_url: Option<String>,
    pub scopes: Vec<String>,
    pub client_id: String,
    /// Keychain entry of the client secret, if the provider app has one.
    pub client_secret_key: Option<String>,
    pub client_secret_last4: Option<String>,
    pub created_at: String,
}

impl ProviderRecord {
    pub fn view(&self) -> Provider {
        Provider {
            id: self.id.clone(),
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            authorize_url: self.authorize_url.clone(),
            token_url: self.token_url.clone(),
            userinfo_url: self.userinfo_url.clone(),
            scopes: self.scopes.clone(),
            client_id: self.client_id.clone(),
            client_secret_last4: self.client_secret_last4.clone(),
            created_at: self.created_at.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CredentialRecord {
    pub id: String,
    pub provider_id: String,
    pub subject: String,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    pub token_secret_key: String,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    pub expires_at: Option<String>,
    pub refresh_due_at: Option<String>,
    pub last_refreshed_at: Option<String>,
    pub created_at: String,
}

pub(super) const PROVIDER_SELECT: &str = "SELECT p.id, a.id, p.name, p.issuer, p.authorize_url,
    p.token_url, p.userinfo_url, p.revocation_url, p.scopes, a.client_id, a.client_secret_key,
    a.client_secret_last4, p.created_at
    FROM providers p JOIN provider_apps a ON a.provider_id = p.id";

pub(super) fn provider_from_row(row: &Row) -> rusqlite::Result<ProviderRecord> {
    Ok(ProviderRecord {
        id: row.get(0)?,
        app_id: row.get(1)?,
        name: row.get(2)?,
        issuer: row.get(3)?,
        authorize_url: row.get(4)?,
        token_url: row.get(5)?,
        userinfo_url: row.get(6)?,
        revocation_url: row.get(7)?,
        scopes: list(row, 8)?,
        client_id: row.get(9)?,
        client_secret_key: row.get(10)?,
        client_secret_last4: row.get(11)?,
        created_at: row.get(12)?,
    })
}

pub(super) const CREDENTIAL_SELECT: &str = "SELECT id, provider_id, subject, account, scopes,
    token_secret_key, status, expires_at, last_refreshed_at, created_at, status_reason, refresh_due_at
    FROM credentials";

pub(super) fn credential_from_row(row: &Row) -> rusqlite::Result<CredentialRecord> {
    Ok(CredentialRecord {
        id: row.get(0)?,
        provider_id: row.get(1)?,
        subject: row.get(2)?,
        account: row.get(3)?,
        scopes: list(row, 4)?,
        token_secret_key: row.get(5)?,
        status: super::status_or_reauthorize(&row.get::<_, String>(6)?),
        expires_at: row.get(7)?,
        last_refreshed_at: row.get(8)?,
        created_at: row.get(9)?,
        status_reason: row.get(10)?,
        refresh_due_at: row.get(11)?,
    })
}

pub(super) const CONNECTION_SELECT: &str = "SELECT c.id, c.name, c.integration, p.name, p.id,
    k.status, k.account, k.scopes, k.expires_at, k.last_refreshed_at, c.created_at, k.status_reason
    FROM connections c JOIN credentials k ON k.id = c.credential_id
    JOIN providers p ON p.id = k.provider_id";

pub(super) fn connection_from_row(row: &Row) -> rusqlite::Result<Connection> {
    Ok(Connection {
        id: row.get(0)?,
        name: row.get(1)?,
        integration: row.get(2)?,
        provider: row.get(3)?,
        provider_id: row.get(4)?,
        status: super::status_or_reauthorize(&row.get::<_, String>(5)?),
        status_reason: row.get(11)?,
        account: row.get(6)?,
        scopes: list(row, 7)?,
        expires_at: row.get(8)?,
        last_refreshed_at: row.get(9)?,
        created_at: row.get(10)?,
    })
}

fn list(row: &Row, index: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}
