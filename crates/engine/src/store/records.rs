//! Rows as the engine uses them, and their mapping from SQL.

use rusqlite::Row;

use crate::api::{Connection, ConnectionStatus};

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
    pub created_at: String,
    /// Why it needs the person (its client credentials were rejected), if it does.
    pub attention: Option<String>,
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
            created_at: String::new(),
            attention: None,
        }
    }
}

/// Endpoints the person set by hand; None: the provider's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointOverrides {
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub revocation_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub jwks_url: Option<String>,
}

/// A provider the person defined (by issuer or by endpoints).
#[derive(Debug, Clone)]
pub struct CustomProviderRow {
    pub id: String,
    pub name: String,
    pub issuer: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: Option<String>,
    pub revocation_url: Option<String>,
    /// RFC 8628, from discovery.
    pub device_authorization_url: Option<String>,
    /// The keys its ID tokens are signed with, from discovery.
    pub jwks_url: Option<String>,
    pub scopes: Vec<String>,
    pub created_at: String,
}

pub(super) const APP_SELECT: &str = "SELECT id, provider_id, client_id, client_secret_key,
    client_secret_last4, enabled, site, authorize_url, token_url, revocation_url, userinfo_url, created_at,
    attention, jwks_url FROM provider_apps";

pub(super) fn app_from_row(row: &Row) -> rusqlite::Result<ProviderAppRow> {
    Ok(ProviderAppRow {
        id: row.get(0)?,
        provider_id: row.get(1)?,
        client_id: row.get(2)?,
        client_secret_key: row.get(3)?,
        client_secret_last4: row.get(4)?,
        enabled: row.get(5)?,
        site: row.get(6)?,
        overrides: EndpointOverrides {
            authorize_url: row.get(7)?,
            token_url: row.get(8)?,
            revocation_url: row.get(9)?,
            userinfo_url: row.get(10)?,
            jwks_url: row.get(13)?,
        },
        created_at: row.get(11)?,
        attention: row.get(12)?,
    })
}

pub(super) const CUSTOM_SELECT: &str = "SELECT id, name, issuer, authorize_url, token_url,
    userinfo_url, revocation_url, scopes, created_at, device_authorization_url, jwks_url FROM providers";

pub(super) fn custom_from_row(row: &Row) -> rusqlite::Result<CustomProviderRow> {
    Ok(CustomProviderRow {
        id: row.get(0)?,
        name: row.get(1)?,
        issuer: row.get(2)?,
        authorize_url: row.get(3)?,
        token_url: row.get(4)?,
        userinfo_url: row.get(5)?,
        revocation_url: row.get(6)?,
        scopes: list(row, 7)?,
        created_at: row.get(8)?,
        device_authorization_url: row.get(9)?,
        jwks_url: row.get(10)?,
    })
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
    /// An API key's non-secret fields (JSON object); None for OAuth credentials.
    pub key_fields: Option<String>,
    /// When the refresh token lapses, where the provider says (RFC 3339).
    pub refresh_token_expires_at: Option<String>,
    /// Set while a refresh is under way (the entry its tokens will go to).
    pub pending_token_key: Option<String>,
}

pub(super) const CREDENTIAL_SELECT: &str = "SELECT id, provider_id, subject, account, scopes,
    token_secret_key, status, expires_at, last_refreshed_at, created_at, status_reason, refresh_due_at,
    key_fields, refresh_token_expires_at, pending_token_key FROM credentials";

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
        key_fields: row.get(12)?,
        refresh_token_expires_at: row.get(13)?,
        pending_token_key: row.get(14)?,
    })
}

/// The provider's name is filled in from the catalog for built-in providers.
pub(super) const CONNECTION_SELECT: &str = "SELECT c.id, c.name, c.integration, p.name, k.provider_id,
    k.status, k.account, k.scopes, k.expires_at, k.last_refreshed_at, c.created_at, k.status_reason,
    k.refresh_token_expires_at,
    (SELECT json_group_array(name) FROM (SELECT o.name FROM connections o
        WHERE o.credential_id = c.credential_id AND o.id != c.id ORDER BY o.created_at, o.id))
    FROM connections c JOIN credentials k ON k.id = c.credential_id
    LEFT JOIN providers p ON p.id = k.provider_id";

pub(super) fn connection_from_row(row: &Row) -> rusqlite::Result<Connection> {
    Ok(Connection {
        id: row.get(0)?,
        name: row.get(1)?,
        integration: row.get(2)?,
        provider: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
        integration_name: String::new(),
        missing_scopes: Vec::new(),
        provider_id: row.get(4)?,
        status: super::status_or_reauthorize(&row.get::<_, String>(5)?),
        status_reason: row.get(11)?,
        account: row.get(6)?,
        scopes: list(row, 7)?,
        expires_at: row.get(8)?,
        last_refreshed_at: row.get(9)?,
        created_at: row.get(10)?,
        refresh_token_expires_at: row.get(12)?,
        shared_with: list(row, 13)?,
    })
}

fn list(row: &Row, index: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}
