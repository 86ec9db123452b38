//! The `stale_secrets` table: keychain entries replaced by newer ones, or written for a
//! credential not yet kept, to delete once nothing uses them.

use rusqlite::params;

use super::Store;
use crate::{Result, Timestamp};

impl Store {
    /// Keychain entries replaced by newer ones, or written for a credential whose process
    /// died before keeping it, noted before `noted_before` and not yet deleted (none that
    /// a credential or a queued revocation uses).
    pub fn stale_secrets(&self, noted_before: Timestamp) -> Result<Vec<String>> {
        self.with(|db| {
            let mut statement = db.prepare(
                "SELECT key FROM stale_secrets WHERE since <= ?1
                    AND key NOT IN (SELECT token_secret_key FROM credentials)
                    AND key NOT IN (SELECT coalesce(pending_token_key, '') FROM credentials)
                    AND key NOT IN (SELECT token_secret_key FROM pending_revocations)",
            )?;
            let rows = statement.query_map([noted_before], |row| row.get("key"))?;
            rows.collect()
        })
    }

    /// An entry about to be written for a credential not yet kept: noted first, so that
    /// a process killed before the credential points at it leaves a note, not an orphan.
    pub fn note_secret_to_write(&self, key: &str, at: Timestamp) -> Result<()> {
        self.execute("INSERT OR IGNORE INTO stale_secrets (key, since) VALUES (?1, ?2)", params![key, at])
            .map(drop)
    }

    /// The entry is gone from the keychain, or a kept credential uses it.
    pub fn forget_secret(&self, key: &str) -> Result<()> {
        self.execute("DELETE FROM stale_secrets WHERE key = ?1", [key]).map(drop)
    }
}
