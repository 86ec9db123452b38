//! The `connections` table: integrations on a credential, as a person named them.

use rusqlite::{params, Connection as Db, OptionalExtension, Row};

use super::{
    credentials, from_columns, list_column, status_column, unless_taken, PendingRevocation, Store, TableRow,
};
use crate::api::Connection;
use crate::{Error, Result, Timestamp};

impl TableRow for Connection {
    /// The provider's name is filled in from the catalog for built-in providers.
    const SELECT: &'static str = "SELECT c.id, c.name, c.integration, p.name AS provider, k.provider_id,
        k.status, k.account, k.scopes, k.expires_at, k.last_refreshed_at, c.created_at, k.status_reason,
        k.refresh_token_expires_at,
        (SELECT json_group_array(name) FROM (SELECT o.name FROM connections o
            WHERE o.credential_id = c.credential_id AND o.id != c.id ORDER BY o.created_at, o.rowid))
            AS shared_with,
        (SELECT r.url FROM resources r WHERE r.provider_id = k.provider_id) AS resource, c.consent,
        (SELECT json_group_array(program) FROM (SELECT u.program FROM program_use u
            WHERE u.connection_id = c.id ORDER BY u.last_event_id DESC)) AS used_by,
        (SELECT max(u.last_at) FROM program_use u WHERE u.connection_id = c.id) AS last_handed_out_at,
        k.token_details
        FROM connections c JOIN credentials k ON k.id = c.credential_id
        LEFT JOIN providers p ON p.id = k.provider_id";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(from_columns!(row => Connection {
            id, name, integration, provider_id, status_reason, account, expires_at, last_refreshed_at,
            created_at, refresh_token_expires_at, resource, last_handed_out_at;
            provider: row.get::<_, Option<String>>("provider")?.unwrap_or_default(),
            status: status_column(row)?,
            consent: row.get::<_, String>("consent")?.parse().unwrap_or_default(),
            scopes: list_column(row, "scopes")?,
            shared_with: list_column(row, "shared_with")?,
            used_by: list_column(row, "used_by")?,
            details: super::details_column(row)?,
            integration_name: String::new(),
            missing_scopes: Vec::new()
        }))
    }
}

/// What [`Store::delete_connection`] did.
pub enum Deleted {
    /// There was no such connection (another process removed it first).
    NotFound,
    /// Other connections still use its credential.
    CredentialKept,
    /// It was the last on its credential, which went with it; the grant's revocation is
    /// queued.
    CredentialGone(Box<PendingRevocation>),
}

pub struct NewConnectionRow {
    pub id: String,
    pub name: String,
    pub integration: String,
    pub created_at: Timestamp,
}

impl NewConnectionRow {
    /// Inserts it under its name, or the next free "name (2)" when another sign-in that
    /// finished meanwhile took the name: the sign-in is kept, and can be renamed.
    pub(super) fn insert(&self, db: &Db, credential_id: &str) -> rusqlite::Result<()> {
        db.execute(
            "INSERT INTO connections (id, name, integration, credential_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![self.id, free_name(db, &self.name)?, self.integration, credential_id, self.created_at],
        )
        .map(drop)
    }
}

/// `wanted`, or when a connection has that name, the first free "wanted (2)", "(3)"…
fn free_name(db: &Db, wanted: &str) -> rusqlite::Result<String> {
    let taken = |name: &str| {
        db.query_row("SELECT 1 FROM connections WHERE name = ?1 COLLATE NOCASE", [name], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
    };
    let mut name = wanted.to_owned();
    let mut number = 2;
    while taken(&name)? {
        name = format!("{wanted} ({number})");
        number += 1;
    }
    Ok(name)
}

/// What became of a rename.
#[derive(Debug, PartialEq, Eq)]
pub enum Renamed {
    Renamed,
    /// Another connection has the name (a rename elsewhere may have taken it since it
    /// was checked).
    NameTaken,
    /// Renamed or removed by another process since it was found: nothing was changed.
    ChangedMeanwhile,
}

impl Store {
    /// The connections sharing a credential.
    pub fn connections_on(&self, credential_id: &str) -> Result<Vec<Connection>> {
        self.rows("WHERE c.credential_id = ?1 ORDER BY c.created_at, c.rowid", [credential_id])
    }

    /// One connection on a credential, to name it in messages.
    pub fn a_connection_of(&self, credential_id: &str) -> Result<Option<Connection>> {
        self.first_row("WHERE c.credential_id = ?1 ORDER BY c.created_at, c.rowid LIMIT 1", [credential_id])
    }

    pub fn connections(&self) -> Result<Vec<Connection>> {
        self.rows("ORDER BY c.created_at, c.rowid", [])
    }

    /// Connections whose id or name is exactly `key`.
    pub fn connections_matching(&self, key: &str) -> Result<Vec<Connection>> {
        self.rows("WHERE c.id = ?1 OR c.name = ?1 COLLATE NOCASE ORDER BY c.created_at, c.rowid", [key])
    }

    /// Renames it from `from`, the name it was found by, to `to`.
    pub fn rename_connection(&self, connection_id: &str, from: &str, to: &str) -> Result<Renamed> {
        self.with(|db| {
            let renamed = db.execute(
                "UPDATE connections SET name = ?3 WHERE id = ?1 AND name = ?2",
                params![connection_id, from, to],
            );
            Ok(match unless_taken(renamed)? {
                None => Renamed::NameTaken,
                Some(0) => Renamed::ChangedMeanwhile,
                Some(_) => Renamed::Renamed,
            })
        })
    }

    /// `wanted`, or the first free "wanted (2)", "(3)"…
    pub fn free_connection_name(&self, wanted: &str) -> Result<String> {
        self.with(|db| free_name(db, wanted))
    }

    pub fn credential_id_of(&self, connection_id: &str) -> Result<String> {
        self.with(|db| {
            db.query_row("SELECT credential_id FROM connections WHERE id = ?1", [connection_id], |row| {
                row.get("credential_id")
            })
            .optional()
        })?
        .ok_or_else(|| Error::NotFound { what: "connection", key: connection_id.to_owned() })
    }

    pub fn connection_count_for_provider(&self, provider_id: &str) -> Result<usize> {
        self.with(|db| {
            db.query_row(
                "SELECT count(*) FROM connections c JOIN credentials k ON k.id = c.credential_id
                 WHERE k.provider_id = ?1",
                [provider_id],
                |row| row.get(0),
            )
        })
    }

    /// Deletes a connection, and its credential when no other connection uses it; then,
    /// in the same transaction, queues the grant's revocation at the provider.
    pub fn delete_connection(&self, connection_id: &str, at: Timestamp) -> Result<Deleted> {
        self.with(|db| {
            let tx = db.transaction()?;
            let found: Option<(String, String)> = tx
                .query_row(
                    "SELECT credential_id, name FROM connections WHERE id = ?1",
                    [connection_id],
                    |row| Ok((row.get("credential_id")?, row.get("name")?)),
                )
                .optional()?;
            let Some((credential_id, name)) = found else {
                return Ok(Deleted::NotFound);
            };
            tx.execute("DELETE FROM connections WHERE id = ?1", [connection_id])?;
            let still_used: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM connections WHERE credential_id = ?1)",
                [&credential_id],
                |row| row.get(0),
            )?;
            let deleted = if still_used {
                Deleted::CredentialKept
            } else {
                let pending = credentials::delete(&tx, &credential_id, name, at.to_owned())?;
                pending.queue(&tx, at)?;
                Deleted::CredentialGone(Box::new(pending))
            };
            tx.commit()?;
            Ok(deleted)
        })
    }
}
