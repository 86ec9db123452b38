//! The `pending_revocations` table: grants to revoke at the provider, retried until the
//! provider answers.

use rusqlite::{params, Connection as Db, Row};

use super::{from_columns, Store, TableRow};
use crate::provider::SignedInAddresses;
use crate::{Result, Timestamp};

/// A grant to revoke at the provider; its tokens are still in the keychain.
#[derive(Debug, Clone)]
pub struct PendingRevocation {
    pub credential_id: String,
    pub provider_id: String,
    pub token_secret_key: String,
    /// The removed connection's name.
    pub subject: String,
    pub attempts: u32,
    /// RFC 3339.
    pub next_attempt_at: Option<Timestamp>,
    /// Where the credential was signed in (None: from before they were kept).
    pub addresses: Option<SignedInAddresses>,
    /// The account the grant was for (None: queued before it was kept).
    pub account_subject: Option<String>,
}

impl TableRow for PendingRevocation {
    const SELECT: &'static str = "SELECT credential_id, provider_id, token_secret_key, subject, attempts,
        next_attempt_at, addresses, account_subject FROM pending_revocations";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(from_columns!(row => PendingRevocation {
            credential_id, provider_id, token_secret_key, subject, attempts, next_attempt_at, addresses,
            account_subject
        }))
    }
}

impl PendingRevocation {
    /// Queued at `at`, first due then.
    pub(super) fn queue(&self, db: &Db, at: Timestamp) -> rusqlite::Result<()> {
        db.execute(
            "INSERT INTO pending_revocations (credential_id, provider_id, token_secret_key, subject,
                next_attempt_at, created_at, addresses, account_subject)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
            params![
                self.credential_id,
                self.provider_id,
                self.token_secret_key,
                self.subject,
                at,
                self.addresses,
                self.account_subject
            ],
        )
        .map(drop)
    }
}

impl Store {
    /// Every queued revocation, the most overdue first.
    pub fn pending_revocations(&self) -> Result<Vec<PendingRevocation>> {
        self.rows("ORDER BY next_attempt_at", [])
    }

    pub fn next_revocation_due(&self) -> Result<Option<Timestamp>> {
        self.with(|db| {
            db.query_row("SELECT min(next_attempt_at) FROM pending_revocations", [], |row| row.get(0))
        })
    }

    pub fn revocation_failed(
        &self,
        credential_id: &str,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> Result<()> {
        self.execute(
            "UPDATE pending_revocations SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
             WHERE credential_id = ?1",
            params![credential_id, error, next_attempt_at],
        )
        .map(drop)
    }

    pub fn revocation_done(&self, credential_id: &str) -> Result<()> {
        self.execute("DELETE FROM pending_revocations WHERE credential_id = ?1", [credential_id]).map(drop)
    }
}
