//! Reading the activity log: all of it, or what concerns one connection.

use rusqlite::{types::ToSql, Connection as Db};

use super::Store;
use crate::api::{ActivityEvent, EventKind};
use crate::Result;

impl Store {
    /// The newest `limit` entries of the activity log, newest first.
    pub fn events(&self, limit: usize) -> Result<Vec<ActivityEvent>> {
        self.with(|db| query(db, "", &[&limit]))
    }

    /// The newest `limit` entries about one connection, newest first: its own (created,
    /// reconnected, removed) and those of its sign-in (refreshed, refresh failed, needs
    /// reauthorization), which it shares with any connection on the same credential.
    pub fn connection_events(&self, connection_id: &str, limit: usize) -> Result<Vec<ActivityEvent>> {
        self.with(|db| {
            query(
                db,
                "WHERE connection_id = ?2
                    OR credential_id = (SELECT credential_id FROM connections WHERE id = ?2)",
                &[&limit, &connection_id],
            )
        })
    }
}

/// `filter` may use ?2 onwards; ?1 is the limit.
fn query(db: &Db, filter: &str, params: &[&dyn ToSql]) -> rusqlite::Result<Vec<ActivityEvent>> {
    let mut statement = db.prepare(&format!(
        "SELECT id, at, kind, subject, detail FROM events {filter} ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = statement.query_map(params, |row| {
        let kind: String = row.get(2)?;
        Ok((row.get::<_, i64>(0)?, row.get(1)?, kind, row.get(3)?, row.get(4)?))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (id, at, kind, subject, detail) = row?;
        // Kinds this version does not know (a newer one wrote them) are skipped.
        if let Ok(kind) = kind.parse::<EventKind>() {
            events.push(ActivityEvent { id: id.to_string(), at, kind, subject, detail });
        }
    }
    Ok(events)
}
