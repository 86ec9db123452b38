//! The `resources` table: URLs a person connected directly, each with the provider row
//! made for its authorization server.

use rusqlite::{params, OptionalExtension, Row};

use super::{from_columns, json_list, list_column, CustomProviderRow, Store, TableRow};
use crate::{Result, Timestamp};

#[derive(Debug, Clone)]
pub struct ResourceRow {
    pub provider_id: String,
    /// The URL asked for, where requests go.
    pub url: String,
    /// The resource identifier its metadata names, where that is not `url` itself.
    pub identifier: Option<String>,
    pub metadata_url: String,
    pub registration_id: Option<String>,
    /// The person's own provider for the same authorization server, whose provider app
    /// signs in.
    pub client_provider_id: Option<String>,
    pub needed_scopes: Vec<String>,
    pub created_at: Timestamp,
}

impl TableRow for ResourceRow {
    const SELECT: &'static str = "SELECT provider_id, url, identifier, metadata_url, registration_id,
        client_provider_id, needed_scopes, created_at FROM resources";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(from_columns!(row => ResourceRow {
            provider_id, url, identifier, metadata_url, registration_id, client_provider_id, created_at;
            needed_scopes: list_column(row, "needed_scopes")?
        }))
    }
}

impl Store {
    pub fn resource(&self, provider_id: &str) -> Result<Option<ResourceRow>> {
        self.first_row("WHERE provider_id = ?1", [provider_id])
    }

    pub fn resource_at(&self, url: &str) -> Result<Option<ResourceRow>> {
        self.first_row("WHERE url = ?1", [url])
    }

    /// Adds a resource with the provider row of its authorization server, or replaces
    /// what an earlier discovery of the same URL found (its connections stay on it).
    /// Returns the provider id it is kept under: another process's, when that one kept
    /// the URL since it was looked up.
    pub fn upsert_resource(&self, provider: &CustomProviderRow, resource: &ResourceRow) -> Result<String> {
        self.with(|db| {
            let tx = db.transaction()?;
            let kept: Option<String> = tx
                .query_row("SELECT provider_id FROM resources WHERE url = ?1", [&resource.url], |row| {
                    row.get(0)
                })
                .optional()?;
            let provider =
                CustomProviderRow { id: kept.unwrap_or_else(|| provider.id.clone()), ..provider.clone() };
            provider.upsert(&tx)?;
            tx.execute(
                "INSERT INTO resources (provider_id, url, metadata_url, registration_id, client_provider_id,
                    needed_scopes, created_at, identifier)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (provider_id) DO UPDATE SET metadata_url = ?3, registration_id = ?4,
                    client_provider_id = ?5, identifier = ?8",
                params![
                    provider.id,
                    resource.url,
                    resource.metadata_url,
                    resource.registration_id,
                    resource.client_provider_id,
                    json_list(&resource.needed_scopes),
                    resource.created_at,
                    resource.identifier,
                ],
            )?;
            tx.commit().map(|()| provider.id)
        })
    }

    /// Records scopes the server asked for beyond the grant (kept until granted).
    pub fn set_needed_scopes(&self, provider_id: &str, scopes: &[String]) -> Result<()> {
        self.execute(
            "UPDATE resources SET needed_scopes = ?2 WHERE provider_id = ?1",
            params![provider_id, json_list(scopes)],
        )
        .map(drop)
    }
}
