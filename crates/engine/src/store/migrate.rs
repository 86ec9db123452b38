//! Numbered SQL migrations embedded in the binary, guarded by `PRAGMA user_version`.
//! Never edit one that has been released; add the next number.

use rusqlite::{Connection, OptionalExtension};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_refresh_due.sql"),
    include_str!("../../migrations/0003_event_subject.sql"),
    include_str!("../../migrations/0004_builtin_provider_apps.sql"),
    include_str!("../../migrations/0005_pending_revocations.sql"),
    include_str!("../../migrations/0006_api_keys.sql"),
    include_str!("../../migrations/0007_refresh_token_lapse.sql"),
    include_str!("../../migrations/0008_pending_refresh.sql"),
    include_str!("../../migrations/0009_provider_app_attention.sql"),
    include_str!("../../migrations/0010_stale_secrets.sql"),
    include_str!("../../migrations/0011_device_authorization.sql"),
    include_str!("../../migrations/0012_id_token_keys.sql"),
    include_str!("../../migrations/0013_device_authorization_override.sql"),
    include_str!("../../migrations/0014_signed_in_addresses.sql"),
    include_str!("../../migrations/0015_client_auth.sql"),
    include_str!("../../migrations/0016_signed_in_at.sql"),
    include_str!("../../migrations/0017_resources.sql"),
    include_str!("../../migrations/0018_agent.sql"),
    include_str!("../../migrations/0019_token_details.sql"),
    include_str!("../../migrations/0020_unique_connection_names.sql"),
    include_str!("../../migrations/0021_pending_secret_orphaned.sql"),
    include_str!("../../migrations/0022_resource_identifier.sql"),
    include_str!("../../migrations/0023_retry_not_before.sql"),
    include_str!("../../migrations/0024_revocation_account.sql"),
];

/// Why the database could not be brought up to this version.
#[derive(Debug, thiserror::Error)]
pub(super) enum MigrationError {
    /// A newer Grantkeeper's tables may hold what this one would not keep up to date.
    #[error(
        "a newer Grantkeeper wrote it (its version {found}; this one reads up to {known}). \
         Use the newer Grantkeeper; nothing in the database was changed"
    )]
    Newer { found: usize, known: usize },
    #[error("migration {migration} left a broken reference in {table}")]
    BrokenReference { migration: usize, table: String },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Runs the missing migrations with foreign keys off, as SQLite's procedure for
/// rebuilding a table asks (<https://sqlite.org/lang_altertable.html#otheralter>), and
/// checks the keys before each commit.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), MigrationError> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(MigrationError::Newer { found: current, known: MIGRATIONS.len() });
    }
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        // The version read again inside the (immediate) transaction: another process
        // opening the same new database at once may have run this migration meanwhile.
        let tx = conn.transaction()?;
        let now: usize = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if now > index {
            continue;
        }
        tx.execute_batch(sql)?;
        let broken: Option<String> =
            tx.query_row("PRAGMA foreign_key_check", [], |row| row.get(0)).optional()?;
        if let Some(table) = broken {
            return Err(MigrationError::BrokenReference { migration: index + 1, table });
        }
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(conn.pragma_update(None, "foreign_keys", "ON")?)
}
