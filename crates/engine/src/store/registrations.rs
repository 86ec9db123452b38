//! The `registrations` table: client identities Grantkeeper registered for itself at an
//! authorization server (RFC 7591), kept for later sign-ins there.

use rusqlite::{params, Row};

use super::{from_columns, Store, TableRow};
use crate::catalog::ClientAuth;
use crate::{Result, Timestamp};

#[derive(Debug, Clone)]
pub struct RegistrationRow {
    pub id: String,
    pub issuer: String,
    pub client_id: String,
    /// As registered: a server may compare it exactly, port included.
    pub redirect_uri: String,
    pub client_auth: ClientAuth,
    pub client_secret_key: Option<String>,
    pub registration_token_key: Option<String>,
    pub registration_client_uri: Option<String>,
    pub created_at: Timestamp,
}

impl TableRow for RegistrationRow {
    const SELECT: &'static str = "SELECT id, issuer, client_id, redirect_uri, client_auth, client_secret_key,
        registration_token_key, registration_client_uri, created_at FROM registrations";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(from_columns!(row => RegistrationRow {
            id, issuer, client_id, redirect_uri, client_auth, client_secret_key, registration_token_key,
            registration_client_uri, created_at
        }))
    }
}

impl RegistrationRow {
    fn insert(&self, db: &rusqlite::Connection) -> rusqlite::Result<()> {
        db.execute(
            "INSERT INTO registrations (id, issuer, client_id, redirect_uri, client_auth, client_secret_key,
                registration_token_key, registration_client_uri, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                self.id,
                self.issuer,
                self.client_id,
                self.redirect_uri,
                self.client_auth,
                self.client_secret_key,
                self.registration_token_key,
                self.registration_client_uri,
                self.created_at,
            ],
        )
        .map(drop)
    }
}

impl Store {
    pub fn registration(&self, id: &str) -> Result<Option<RegistrationRow>> {
        self.first_row("WHERE id = ?1", [id])
    }

    /// Keeps a registration that no resource uses yet.
    pub fn add_registration(&self, registration: &RegistrationRow) -> Result<()> {
        self.with(|db| registration.insert(db))
    }

    /// Keeps a new registration and points the resource at it, in one transaction.
    pub fn insert_registration(
        &self,
        registration: &RegistrationRow,
        resource_provider_id: &str,
    ) -> Result<()> {
        self.with(|db| {
            let tx = db.transaction()?;
            registration.insert(&tx)?;
            tx.execute(
                "UPDATE resources SET registration_id = ?2, client_provider_id = NULL WHERE provider_id = ?1",
                params![resource_provider_id, registration.id],
            )?;
            tx.commit()
        })
    }

    /// The newest registration at an authorization server, reused by its other resources.
    pub fn registration_at(&self, issuer: &str) -> Result<Option<RegistrationRow>> {
        self.first_row("WHERE issuer = ?1 ORDER BY created_at DESC LIMIT 1", [issuer])
    }

    /// Forgets a registration the server no longer knows; its keychain entries become
    /// stale secrets (a trigger), deleted by the next repair.
    pub fn delete_registration(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM registrations WHERE id = ?1", [id]).map(drop)
    }
}
