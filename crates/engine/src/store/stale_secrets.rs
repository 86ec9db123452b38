//! The `stale_secrets` table: keychain entries replaced by newer ones, to delete.

use super::Store;
use crate::Result;

impl Store {
    /// Keychain entries replaced by newer ones and not yet deleted (none that a
    /// credential or a queued revocation still uses).
    pub fn stale_secrets(&self) -> Result<Vec<String>> {
        self.with(|db| {
            let mut statement = db.prepare(
                "SELECT key FROM stale_secrets WHERE key NOT IN (SELECT token_secret_key FROM credentials)
                    AND key NOT IN (SELECT coalesce(pending_token_key, '') FROM credentials)
                    AND key NOT IN (SELECT token_secret_key FROM pending_revocations)",
            )?;
            let rows = statement.query_map([], |row| row.get("key"))?;
            rows.collect()
        })
    }

    /// The replaced entry is gone from the keychain.
    pub fn forget_secret(&self, key: &str) -> Result<()> {
        self.execute("DELETE FROM stale_secrets WHERE key = ?1", [key]).map(drop)
    }
}
