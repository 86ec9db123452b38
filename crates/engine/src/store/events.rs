//! The `events` table: the activity log, written as things happen and read newest
//! first, all of it or what concerns one connection.

use rusqlite::{params, Row};

use super::{Store, TableRow};
use crate::api::{ActivityEvent, EventKind};
use crate::{Result, Timestamp};

/// The activity log keeps this many entries.
const EVENT_LIMIT: i64 = 5_000;

pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub at: Timestamp,
    pub credential_id: Option<&'a str>,
    pub connection_id: Option<&'a str>,
    /// Overrides the connection names looked up from the ids.
    pub subject: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// The program a token went to (its executable's path).
    pub program: Option<&'a str>,
}

/// None: a kind this version does not know (a newer one wrote it), which is skipped.
impl TableRow for Option<ActivityEvent> {
    const SELECT: &'static str = "SELECT id, at, kind, subject, detail, program FROM events";

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        let Ok(kind) = row.get::<_, String>("kind")?.parse() else {
            return Ok(None);
        };
        Ok(Some(ActivityEvent {
            id: row.get::<_, i64>("id")?.to_string(),
            at: row.get("at")?,
            kind,
            subject: row.get("subject")?,
            detail: row.get("detail")?,
            program: row.get("program")?,
        }))
    }
}

impl Store {
    /// Appends to the activity log, naming the connection(s) unless `subject` is given,
    /// and keeps the log to its newest `EVENT_LIMIT` entries.
    pub fn record_event(&self, event: &NewEvent) -> Result<()> {
        self.with(|db| {
            let tx = db.transaction()?;
            tx.execute(
                "INSERT INTO events (at, kind, credential_id, connection_id, subject, detail, program)
                 VALUES (?1, ?2, ?3, ?4, coalesce(?5,
                     (SELECT name FROM connections WHERE id = ?4),
                     (SELECT group_concat(name, ', ') FROM connections WHERE credential_id = ?3)), ?6, ?7)",
                params![
                    event.at,
                    event.kind,
                    event.credential_id,
                    event.connection_id,
                    event.subject,
                    event.detail,
                    event.program
                ],
            )?;
            if let (EventKind::TokenHandedOut, Some(connection), Some(program)) =
                (event.kind, event.connection_id, event.program)
            {
                // Who used the connection and when, and the last use of a rule that allowed it.
                tx.execute(
                    "INSERT INTO program_use (connection_id, program, last_event_id, last_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (connection_id, program)
                     DO UPDATE SET last_event_id = excluded.last_event_id, last_at = excluded.last_at",
                    params![connection, program, tx.last_insert_rowid(), event.at],
                )?;
                tx.execute(
                    "UPDATE program_rules SET last_used_at = ?3 WHERE connection_id = ?1 AND program = ?2",
                    params![connection, program, event.at],
                )?;
            }
            tx.execute("DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?1", [EVENT_LIMIT])?;
            tx.commit()
        })
    }

    /// The newest `limit` entries of the activity log, newest first.
    pub fn events(&self, limit: usize) -> Result<Vec<ActivityEvent>> {
        self.known_events("ORDER BY id DESC LIMIT ?1", params![limit])
    }

    /// The newest `limit` entries about one connection, newest first: its own (created,
    /// reconnected, removed) and those of its sign-in (refreshed, refresh failed, needs
    /// reauthorization), which it shares with any connection on the same credential.
    pub fn connection_events(&self, connection_id: &str, limit: usize) -> Result<Vec<ActivityEvent>> {
        self.known_events(
            "WHERE connection_id = ?2
                OR credential_id = (SELECT credential_id FROM connections WHERE id = ?2)
             ORDER BY id DESC LIMIT ?1",
            params![limit, connection_id],
        )
    }

    fn known_events(&self, filter: &str, params: impl rusqlite::Params) -> Result<Vec<ActivityEvent>> {
        let events: Vec<Option<ActivityEvent>> = self.rows(filter, params)?;
        Ok(events.into_iter().flatten().collect())
    }
}
