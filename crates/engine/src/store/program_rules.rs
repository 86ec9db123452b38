//! The token agent's tables: `program_rules` (the programs allowed to use a
//! connection's tokens), each connection's `consent` policy, and the app's `settings`.

use rusqlite::{params, OptionalExtension, Row};

use super::{from_columns, Store, TableRow};
use crate::api::ConsentPolicy;
use crate::{Result, Timestamp};

/// The setting that makes the CLI hand out tokens only through the running app.
pub const REQUIRE_APP: &str = "require_app";

#[derive(Debug, Clone)]
pub struct ProgramRule {
    pub connection_id: String,
    pub program: String,
    pub allowed_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl TableRow for ProgramRule {
    const SELECT: &'static str = "SELECT connection_id, program, allowed_at, last_used_at FROM program_rules";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(from_columns!(row => ProgramRule { connection_id, program, allowed_at, last_used_at }))
    }
}

impl Store {
    pub fn program_rule(&self, connection_id: &str, program: &str) -> Result<Option<ProgramRule>> {
        self.first_row("WHERE connection_id = ?1 AND program = ?2", [connection_id, program])
    }

    pub fn program_rules(&self, connection_id: &str) -> Result<Vec<ProgramRule>> {
        self.rows("WHERE connection_id = ?1 ORDER BY last_used_at DESC, allowed_at DESC", [connection_id])
    }

    pub fn allow_program(&self, connection_id: &str, program: &str, at: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO program_rules (connection_id, program, allowed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (connection_id, program) DO NOTHING",
            params![connection_id, program, at],
        )
        .map(drop)
    }

    /// Whether there was such a rule.
    pub fn revoke_program(&self, connection_id: &str, program: &str) -> Result<bool> {
        let removed = self.execute(
            "DELETE FROM program_rules WHERE connection_id = ?1 AND program = ?2",
            [connection_id, program],
        )?;
        Ok(removed > 0)
    }

    pub fn set_consent_policy(&self, connection_id: &str, policy: ConsentPolicy) -> Result<()> {
        self.execute(
            "UPDATE connections SET consent = ?2 WHERE id = ?1",
            params![connection_id, policy.as_ref()],
        )
        .map(drop)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.with(|db| {
            db.query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| row.get(0)).optional()
        })
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            [key, value],
        )
        .map(drop)
    }
}
