//! The SQLite store: metadata of providers, credentials, connections, flows, events.
//! The app and the CLI open the same file through `Store::open`.

mod activity;
mod migrate;
mod providers;
mod records;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::ToSqlOutput;
use rusqlite::{params, Connection as Db, OptionalExtension, ToSql};
use strum::AsRefStr;

pub use records::{CredentialRecord, CustomProviderRow, EndpointOverrides, ProviderAppRow};

use crate::api::{Connection, ConnectionStatus, EventKind};
use crate::{Error, Result};

pub struct Store {
    db: Mutex<Db>,
    path: PathBuf,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        let storage =
            |e: rusqlite::Error| Error::Storage { path: path.display().to_string(), reason: e.to_string() };
        let mut db = Db::open(path).map_err(storage)?;
        db.busy_timeout(Duration::from_secs(10)).map_err(storage)?;
        db.pragma_update(None, "journal_mode", "WAL").map_err(storage)?;
        migrate::migrate(&mut db).map_err(storage)?;
        Ok(Store { db: Mutex::new(db), path: path.to_owned() })
    }

    fn with<T>(&self, work: impl FnOnce(&mut Db) -> rusqlite::Result<T>) -> Result<T> {
        let mut db = self.db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&mut db)
            .map_err(|e| Error::Storage { path: self.path.display().to_string(), reason: e.to_string() })
    }

    pub fn credential_for_subject(
        &self,
        provider_id: &str,
        subject: &str,
    ) -> Result<Option<CredentialRecord>> {
        self.with(|db| {
            db.query_row(
                &format!("{} WHERE provider_id = ?1 AND subject = ?2", records::CREDENTIAL_SELECT),
                [provider_id, subject],
                records::credential_from_row,
            )
            .optional()
        })
    }

    pub fn credentials_at(&self, provider_id: &str) -> Result<Vec<CredentialRecord>> {
        self.with(|db| {
            let mut statement = db.prepare(&format!(
                "{} WHERE provider_id = ?1 ORDER BY created_at",
                records::CREDENTIAL_SELECT
            ))?;
            let rows = statement.query_map([provider_id], records::credential_from_row)?;
            rows.collect()
        })
    }

    /// The connections sharing a credential.
    pub fn connections_on(&self, credential_id: &str) -> Result<Vec<Connection>> {
        self.with(|db| {
            let mut statement = db.prepare(&format!(
                "{} WHERE c.credential_id = ?1 ORDER BY c.created_at",
                records::CONNECTION_SELECT
            ))?;
            let rows = statement.query_map([credential_id], records::connection_from_row)?;
            rows.collect()
        })
    }

    /// Credentials the person can still use (not waiting for reauthorization).
    pub fn usable_credentials(&self) -> Result<Vec<CredentialRecord>> {
        self.with(|db| {
            let mut statement = db.prepare(&format!("{} WHERE status != ?1", records::CREDENTIAL_SELECT))?;
            let rows = statement.query_map([ConnectionStatus::Reauthorize], records::credential_from_row)?;
            rows.collect()
        })
    }

    pub fn credential(&self, credential_id: &str) -> Result<CredentialRecord> {
        self.with(|db| {
            db.query_row(
                &format!("{} WHERE id = ?1", records::CREDENTIAL_SELECT),
                [credential_id],
                records::credential_from_row,
            )
            .optional()
        })?
        .ok_or_else(|| Error::NotFound { what: "credential", key: credential_id.to_owned() })
    }

    /// Stores a new or re-authorized credential and, in the same transaction, the new
    /// connection on it (when given). The credential's keychain entry must already hold
    /// the tokens.
    pub fn save_grant(
        &self,
        credential: &CredentialRecord,
        connection: Option<&NewConnectionRow>,
    ) -> Result<()> {
        self.with(|db| {
            let tx = db.transaction()?;
            tx.execute(
                "INSERT INTO credentials (id, provider_id, subject, account, scopes, token_secret_key,
                    status, status_reason, expires_at, last_refreshed_at, created_at, refresh_due_at, key_fields,
                    refresh_token_expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (id) DO UPDATE SET account = excluded.account, scopes = excluded.scopes,
                    token_secret_key = excluded.token_secret_key, status = excluded.status,
                    status_reason = NULL, expires_at = excluded.expires_at,
                    last_refreshed_at = excluded.last_refreshed_at, refresh_due_at = excluded.refresh_due_at,
                    key_fields = excluded.key_fields,
                    refresh_token_expires_at = excluded.refresh_token_expires_at, pending_token_key = NULL",
                params![
                    credential.id,
                    credential.provider_id,
                    credential.subject,
                    credential.account,
                    json_list(&credential.scopes),
                    credential.token_secret_key,
                    credential.status,
                    credential.expires_at,
                    credential.last_refreshed_at,
                    credential.created_at,
                    credential.refresh_due_at,
                    credential.key_fields,
                    credential.refresh_token_expires_at,
                ],
            )?;
            if let Some(connection) = connection {
                tx.execute(
                    "INSERT INTO connections (id, name, integration, credential_id, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        connection.id,
                        connection.name,
                        connection.integration,
                        credential.id,
                        connection.created_at,
                    ],
                )?;
            }
            tx.commit()
        })
    }

    /// Points the credential at its refreshed tokens, unless another process changed it
    /// meanwhile (then returns false and the caller's new keychain entry is unused).
    pub fn record_refresh(&self, refresh: &RecordedRefresh) -> Result<bool> {
        self.with(|db| {
            let changed = db.execute(
                "UPDATE credentials SET token_secret_key = ?3, expires_at = ?4, last_refreshed_at = ?5,
                    scopes = coalesce(?6, scopes), status = ?9, status_reason = NULL,
                    refresh_due_at = ?7, refresh_token_expires_at = coalesce(?8, refresh_token_expires_at),
                    pending_token_key = NULL
                 WHERE id = ?1 AND token_secret_key = ?2",
                params![
                    refresh.credential_id,
                    refresh.previous_key,
                    refresh.new_key,
                    refresh.expires_at,
                    refresh.at,
                    refresh.scopes.as_deref().map(json_list),
                    refresh.refresh_due_at,
                    refresh.refresh_token_expires_at,
                    ConnectionStatus::Active,
                ],
            )?;
            Ok(changed == 1)
        })
    }

    /// Keychain entries replaced by newer ones and not yet deleted (none that a
    /// credential or a queued revocation still uses).
    pub fn stale_secrets(&self) -> Result<Vec<String>> {
        self.with(|db| {
            let mut statement = db.prepare(
                "SELECT key FROM stale_secrets WHERE key NOT IN (SELECT token_secret_key FROM credentials)
                    AND key NOT IN (SELECT coalesce(pending_token_key, '') FROM credentials)
                    AND key NOT IN (SELECT token_secret_key FROM pending_revocations)",
            )?;
            let rows = statement.query_map([], |row| row.get(0))?;
            rows.collect()
        })
    }

    /// The replaced entry is gone from the keychain.
    pub fn forget_secret(&self, key: &str) -> Result<()> {
        self.with(|db| db.execute("DELETE FROM stale_secrets WHERE key = ?1", [key]).map(drop))
    }

    /// A refresh is about to send the refresh token; its tokens will go to `new_key`.
    pub fn begin_refresh(&self, credential_id: &str, new_key: &str) -> Result<()> {
        self.set_pending_token_key(credential_id, Some(new_key))
    }

    /// The refresh attempt ended without new tokens to keep.
    pub fn end_refresh(&self, credential_id: &str) -> Result<()> {
        self.set_pending_token_key(credential_id, None)
    }

    fn set_pending_token_key(&self, credential_id: &str, key: Option<&str>) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE credentials SET pending_token_key = ?2 WHERE id = ?1",
                params![credential_id, key],
            )
            .map(drop)
        })
    }

    /// An interrupted refresh had written its tokens: they become the credential's.
    pub fn adopt_pending(&self, credential_id: &str, key: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE credentials SET token_secret_key = ?2, pending_token_key = NULL
                 WHERE id = ?1 AND pending_token_key = ?2",
                params![credential_id, key],
            )
            .map(drop)
        })
    }

    pub fn mark_reauthorize(&self, credential_id: &str, reason: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE credentials SET status = ?3, status_reason = ?2, refresh_due_at = NULL,
                    pending_token_key = NULL
                 WHERE id = ?1",
                params![credential_id, reason, ConnectionStatus::Reauthorize],
            )
            .map(drop)
        })
    }

    /// A refresh failed for a reason that may pass: the connection stays usable,
    /// marked "retrying", and the scheduler tries again at `retry_at`.
    pub fn mark_retrying(&self, credential_id: &str, reason: &str, retry_at: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE credentials SET status = ?4, status_reason = ?2, refresh_due_at = ?3
                 WHERE id = ?1 AND status != ?5",
                params![
                    credential_id,
                    reason,
                    retry_at,
                    ConnectionStatus::Retrying,
                    ConnectionStatus::Reauthorize
                ],
            )
            .map(drop)
        })
    }

    /// Nothing more to schedule for this credential (it cannot be refreshed).
    pub fn clear_refresh_due(&self, credential_id: &str) -> Result<()> {
        self.set_refresh_due(credential_id, None)
    }

    /// When the scheduler should next refresh or check this credential (None: never).
    pub fn set_refresh_due(&self, credential_id: &str, due: Option<&str>) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE credentials SET refresh_due_at = ?2 WHERE id = ?1",
                params![credential_id, due],
            )
            .map(drop)
        })
    }

    /// Credentials retrying after a transient failure are due at `now`.
    pub fn retry_now(&self, now: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE credentials SET refresh_due_at = ?1 WHERE status = ?2",
                params![now, ConnectionStatus::Retrying],
            )
            .map(drop)
        })
    }

    /// On start: credentials without an expiry are checked soon, not a full interval
    /// after the last check.
    pub fn check_unexpiring_soon(&self, due: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE credentials SET refresh_due_at = ?1
                 WHERE expires_at IS NULL AND status IN (?2, ?3)",
                params![due, ConnectionStatus::Active, ConnectionStatus::Retrying],
            )
            .map(drop)
        })
    }

    /// The earliest scheduled refresh: (credential id, due time).
    pub fn next_refresh_due(&self) -> Result<Option<(String, String)>> {
        self.with(|db| {
            db.query_row(
                "SELECT id, refresh_due_at FROM credentials
                 WHERE refresh_due_at IS NOT NULL AND status IN (?1, ?2)
                 ORDER BY refresh_due_at LIMIT 1",
                [ConnectionStatus::Active, ConnectionStatus::Retrying],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
        })
    }

    /// One connection on a credential, to name it in messages.
    pub fn a_connection_of(&self, credential_id: &str) -> Result<Option<Connection>> {
        self.with(|db| {
            db.query_row(
                &format!(
                    "{} WHERE c.credential_id = ?1 ORDER BY c.created_at LIMIT 1",
                    records::CONNECTION_SELECT
                ),
                [credential_id],
                records::connection_from_row,
            )
            .optional()
        })
    }

    pub fn connections(&self) -> Result<Vec<Connection>> {
        self.with(|db| {
            let mut statement =
                db.prepare(&format!("{} ORDER BY c.created_at, c.id", records::CONNECTION_SELECT))?;
            let rows = statement.query_map([], records::connection_from_row)?;
            rows.collect()
        })
    }

    /// Connections whose id or name is exactly `key` (names are not unique).
    pub fn connections_matching(&self, key: &str) -> Result<Vec<Connection>> {
        self.with(|db| {
            let mut statement = db.prepare(&format!(
                "{} WHERE c.id = ?1 OR c.name = ?1 COLLATE NOCASE ORDER BY c.created_at",
                records::CONNECTION_SELECT
            ))?;
            let rows = statement.query_map([key], records::connection_from_row)?;
            rows.collect()
        })
    }

    pub fn rename_connection(&self, connection_id: &str, name: &str) -> Result<()> {
        self.with(|db| {
            db.execute("UPDATE connections SET name = ?2 WHERE id = ?1", params![connection_id, name])
                .map(drop)
        })
    }

    pub fn connection_name_taken(&self, name: &str) -> Result<bool> {
        self.with(|db| {
            db.query_row("SELECT 1 FROM connections WHERE name = ?1 COLLATE NOCASE", [name], |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
        })
    }

    pub fn credential_id_of(&self, connection_id: &str) -> Result<String> {
        self.with(|db| {
            db.query_row("SELECT credential_id FROM connections WHERE id = ?1", [connection_id], |row| {
                row.get(0)
            })
            .optional()
        })?
        .ok_or_else(|| Error::NotFound { what: "connection", key: connection_id.to_owned() })
    }

    /// Deletes a connection, and its credential when no other connection uses it; then,
    /// in the same transaction, queues the grant's revocation at the provider. Returns
    /// the queued revocation.
    pub fn delete_connection(&self, connection_id: &str, at: &str) -> Result<Option<PendingRevocation>> {
        self.with(|db| {
            let tx = db.transaction()?;
            let found: Option<(String, String)> = tx
                .query_row(
                    "SELECT credential_id, name FROM connections WHERE id = ?1",
                    [connection_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let Some((credential_id, name)) = found else {
                return Ok(None);
            };
            tx.execute("DELETE FROM connections WHERE id = ?1", [connection_id])?;
            let still_used: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM connections WHERE credential_id = ?1)",
                [&credential_id],
                |row| row.get(0),
            )?;
            let revocation = if still_used {
                None
            } else {
                let (provider_id, token_secret_key): (String, String) = tx.query_row(
                    "SELECT provider_id, token_secret_key FROM credentials WHERE id = ?1",
                    [&credential_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?;
                tx.execute("DELETE FROM credentials WHERE id = ?1", [&credential_id])?;
                let pending = PendingRevocation {
                    credential_id,
                    provider_id,
                    token_secret_key,
                    subject: name,
                    attempts: 0,
                    next_attempt_at: Some(at.to_owned()),
                };
                tx.execute(
                    "INSERT INTO pending_revocations (credential_id, provider_id, token_secret_key, subject,
                        next_attempt_at, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![
                        pending.credential_id,
                        pending.provider_id,
                        pending.token_secret_key,
                        pending.subject,
                        at
                    ],
                )?;
                Some(pending)
            };
            tx.commit()?;
            Ok(revocation)
        })
    }

    /// Every queued revocation, the most overdue first.
    pub fn pending_revocations(&self) -> Result<Vec<PendingRevocation>> {
        self.with(|db| {
            let mut statement = db.prepare(
                "SELECT credential_id, provider_id, token_secret_key, subject, attempts, next_attempt_at
                 FROM pending_revocations ORDER BY next_attempt_at",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(PendingRevocation {
                    credential_id: row.get(0)?,
                    provider_id: row.get(1)?,
                    token_secret_key: row.get(2)?,
                    subject: row.get(3)?,
                    attempts: row.get(4)?,
                    next_attempt_at: row.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    pub fn next_revocation_due(&self) -> Result<Option<String>> {
        self.with(|db| {
            db.query_row("SELECT min(next_attempt_at) FROM pending_revocations", [], |row| row.get(0))
        })
    }

    pub fn revocation_failed(&self, credential_id: &str, error: &str, next_attempt_at: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE pending_revocations SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
                 WHERE credential_id = ?1",
                params![credential_id, error, next_attempt_at],
            )
            .map(drop)
        })
    }

    pub fn revocation_done(&self, credential_id: &str) -> Result<()> {
        self.with(|db| {
            db.execute("DELETE FROM pending_revocations WHERE credential_id = ?1", [credential_id]).map(drop)
        })
    }

    pub fn record_flow_started(&self, flow_id: &str, provider_id: &str, at: &str) -> Result<()> {
        self.with(|db| {
            db.execute(
                "INSERT INTO flows (id, provider_id, status, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![flow_id, provider_id, FlowStatus::Pending, at],
            )
            .map(drop)
        })
    }

    pub fn record_flow_finished(
        &self,
        flow_id: &str,
        status: FlowStatus,
        error_code: Option<&str>,
        connection_id: Option<&str>,
        at: &str,
    ) -> Result<()> {
        self.with(|db| {
            db.execute(
                "UPDATE flows SET status = ?2, error_code = ?3, connection_id = ?4, finished_at = ?5 WHERE id = ?1",
                params![flow_id, status, error_code, connection_id, at],
            )
            .map(drop)
        })
    }

    /// Appends to the activity log, naming the connection(s) unless `subject` is given,
    /// and keeps the log to its newest `EVENT_LIMIT` entries.
    pub fn record_event(&self, event: &NewEvent) -> Result<()> {
        self.with(|db| {
            db.execute(
                "INSERT INTO events (at, kind, credential_id, connection_id, subject, detail)
                 VALUES (?1, ?2, ?3, ?4, coalesce(?5,
                     (SELECT name FROM connections WHERE id = ?4),
                     (SELECT group_concat(name, ', ') FROM connections WHERE credential_id = ?3)), ?6)",
                params![
                    event.at,
                    event.kind,
                    event.credential_id,
                    event.connection_id,
                    event.subject,
                    event.detail
                ],
            )?;
            db.execute("DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?1", [EVENT_LIMIT])
                .map(drop)
        })
    }
}

/// Where a sign-in attempt stands.
#[derive(Debug, Clone, Copy, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum FlowStatus {
    Pending,
    Completed,
    Failed,
    Expired,
    Cancelled,
}

/// The activity log keeps this many entries.
const EVENT_LIMIT: i64 = 5_000;

pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub at: &'a str,
    pub credential_id: Option<&'a str>,
    pub connection_id: Option<&'a str>,
    /// Overrides the connection names looked up from the ids.
    pub subject: Option<&'a str>,
    pub detail: Option<&'a str>,
}

pub struct RecordedRefresh {
    pub credential_id: String,
    pub previous_key: String,
    pub new_key: String,
    pub expires_at: Option<String>,
    pub at: String,
    /// Granted scopes, when the token response named them.
    pub scopes: Option<Vec<String>>,
    pub refresh_due_at: Option<String>,
    /// A new refresh token's lapse, when the provider said.
    pub refresh_token_expires_at: Option<String>,
}

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
    pub next_attempt_at: Option<String>,
}

pub struct NewConnectionRow {
    pub id: String,
    pub name: String,
    pub integration: String,
    pub created_at: String,
}

pub(crate) fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings serializes")
}

pub(crate) fn status_or_reauthorize(text: &str) -> ConnectionStatus {
    text.parse().unwrap_or(ConnectionStatus::Reauthorize)
}

/// Statuses and kinds are stored as their strum text; SQL binds them as parameters
/// rather than spelling the text.
macro_rules! bound_as_text {
    ($($kind:ty),*) => {$(
        impl ToSql for $kind {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_ref()))
            }
        }
    )*};
}

bound_as_text!(ConnectionStatus, EventKind, FlowStatus);
