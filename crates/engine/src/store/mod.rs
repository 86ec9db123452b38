//! The SQLite store: metadata of providers, credentials, connections, flows, events.
//! The app and the CLI open the same file through `Store::open`. Each table has its
//! own file: its row types, how a row is read, and the `Store` methods on it.

mod connections;
mod credentials;
mod events;
mod flows;
mod migrate;
mod program_rules;
mod provider_apps;
mod providers;
mod registrations;
mod resources;
mod revocations;
mod stale_secrets;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, Type, ValueRef};
use rusqlite::{Connection as Db, OptionalExtension, Params, Row, ToSql};

pub use connections::{Deleted, NewConnectionRow, Renamed};
pub use credentials::{CredentialKind, CredentialRecord, GrantSaved, RecordedRefresh};
pub use events::NewEvent;
pub use flows::FlowStatus;
pub use program_rules::{ProgramRule, REQUIRE_APP};
pub use provider_apps::ProviderAppRow;
pub use providers::{CustomProviderRow, Inserted};
pub use registrations::RegistrationRow;
pub use resources::ResourceRow;
pub use revocations::PendingRevocation;

use crate::api::{ConnectionStatus, EventKind};
use crate::catalog::ClientAuth;
use crate::provider::SignedInAddresses;
use crate::{Error, Result};

pub struct Store {
    db: Mutex<Db>,
    path: PathBuf,
}

/// A row type and the SELECT it is read from.
trait TableRow: Sized {
    /// `SELECT … FROM …`, to which each query adds its WHERE and ORDER BY.
    const SELECT: &'static str;

    fn from_row(row: &Row) -> rusqlite::Result<Self>;
}

/// The database at `path`, brought up to this version's tables.
fn open_current(path: &Path) -> std::result::Result<Db, migrate::MigrationError> {
    let mut db = Db::open(path)?;
    db.busy_timeout(BUSY_WAIT)?;
    // Every transaction here writes. One that read first would answer "database is
    // locked" at once, without waiting, when another process wrote before its first
    // write; taking the write lock at the start makes it wait, and read what is current.
    db.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    use_wal(&db)?;
    migrate::migrate(&mut db)?;
    Ok(db)
}

/// Why the database cannot be used, with what to do where SQLite's words do not say.
fn unusable(path: &Path, error: &dyn std::fmt::Display, code: Option<rusqlite::ErrorCode>) -> Error {
    use rusqlite::ErrorCode::{
        CannotOpen, DatabaseBusy, DatabaseCorrupt, DatabaseLocked, DiskFull, NotADatabase, PermissionDenied,
        ReadOnly, SystemIoFailure,
    };
    let said = error.to_string();
    // Tables that are not this version's: changed by hand or by another program. SQLite
    // names the statement too, which says nothing to a person.
    if ["no such table", "no such column", "already exists"].iter().any(|sign| said.contains(sign)) {
        let what = said.split(" in ").next().unwrap_or_default();
        return Error::Storage {
            path: path.display().to_string(),
            reason: format!(
                "its tables are not the ones this Grantkeeper keeps ({what}): another program or version \
                 changed them. Put back a copy from a backup, or move it aside to start with an empty \
                 one and connect your accounts again"
            ),
        };
    }
    let advice = match code {
        Some(DiskFull) => ". The disk it is on is full, so nothing was changed: make room, then try again",
        Some(SystemIoFailure) => {
            ". The disk it is on could not be read or written (it may be full or failing): check it, \
             then try again"
        }
        Some(DatabaseBusy | DatabaseLocked) => {
            ". Another program kept it busy writing for 10 seconds, so nothing was changed: let it \
             finish, or quit it (a stuck Grantkeeper command, or a database browser), then try again"
        }
        Some(DatabaseCorrupt | NotADatabase) => {
            ". It is damaged: put back a copy from a backup, or move it aside to start with an \
             empty one and connect your accounts again"
        }
        Some(ReadOnly | CannotOpen | PermissionDenied) => {
            ". Check that you may write to it and to its folder"
        }
        _ => "",
    };
    Error::Storage { path: path.display().to_string(), reason: format!("{said}{advice}") }
}

/// `None` for a write a UNIQUE constraint refused: a name another process took since it
/// was checked.
fn unless_taken<T>(written: rusqlite::Result<T>) -> rusqlite::Result<Option<T>> {
    match written {
        Err(rusqlite::Error::SqliteFailure(error, _))
            if error.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            Ok(None)
        }
        written => written.map(Some),
    }
}

/// How long a statement waits for another process's write to finish.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// Switches to write-ahead logging. That needs the database to itself, and SQLite
/// answers "locked" at once rather than waiting as it does for a lock: a new database
/// opened by several processes together is switched by one, and the others try again.
fn use_wal(db: &Db) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_WAIT;
    loop {
        match db.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            switched => return switched,
        }
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        let db = open_current(path).map_err(|error| {
            let code = match &error {
                migrate::MigrationError::Sqlite(error) => error.sqlite_error_code(),
                _ => None,
            };
            unusable(path, &error, code)
        })?;
        Ok(Store { db: Mutex::new(db), path: path.to_owned() })
    }

    fn with<T>(&self, work: impl FnOnce(&mut Db) -> rusqlite::Result<T>) -> Result<T> {
        let mut db = self.db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&mut db).map_err(|error| unusable(&self.path, &error, error.sqlite_error_code()))
    }

    /// Runs one statement; returns how many rows it changed.
    fn execute(&self, sql: &str, params: impl Params) -> Result<usize> {
        self.with(|db| db.execute(sql, params))
    }

    /// The rows `filter` (WHERE, ORDER BY) selects.
    fn rows<T: TableRow>(&self, filter: &str, params: impl Params) -> Result<Vec<T>> {
        self.with(|db| {
            let mut statement = db.prepare(&format!("{} {filter}", T::SELECT))?;
            let rows = statement.query_map(params, T::from_row)?;
            rows.collect()
        })
    }

    /// The first row `filter` selects, if any.
    fn first_row<T: TableRow>(&self, filter: &str, params: impl Params) -> Result<Option<T>> {
        self.with(|db| db.query_row(&format!("{} {filter}", T::SELECT), params, T::from_row).optional())
    }
}

/// `$kind { field: row.get("field")?, … }` for the fields named like their column, then,
/// after `;`, the fields read otherwise.
macro_rules! from_columns {
    ($row:ident => $kind:ident { $($column:ident),+ $(; $($field:ident: $value:expr),+)? }) => {
        $kind { $($column: $row.get(stringify!($column))?,)+ $($($field: $value,)+)? }
    };
}
use from_columns;

/// A list kept in one column as a JSON array of strings.
fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings serializes")
}

/// The `token_details` column: a JSON object of strings, NULL for none.
fn details_column(row: &Row) -> rusqlite::Result<std::collections::BTreeMap<String, String>> {
    let index = row.as_ref().column_index("token_details")?;
    let Some(text) = row.get::<_, Option<String>>(index)? else { return Ok(Default::default()) };
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

/// What `token_details` holds: NULL for none.
fn details_text(details: &std::collections::BTreeMap<String, String>) -> Option<String> {
    (!details.is_empty()).then(|| serde_json::to_string(details).expect("strings serialize"))
}

fn list_column(row: &Row, column: &str) -> rusqlite::Result<Vec<String>> {
    let index = row.as_ref().column_index(column)?;
    let text: String = row.get(index)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

/// A credential's `status` column. Text this version does not know (a newer one wrote
/// it) reads as Reauthorize, the state that asks the person to sign in again.
fn status_column(row: &Row) -> rusqlite::Result<ConnectionStatus> {
    let text: String = row.get("status")?;
    Ok(text.parse().unwrap_or(ConnectionStatus::Reauthorize))
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

/// A client authentication method is kept as its name.
impl ToSql for ClientAuth {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.name()))
    }
}

impl FromSql for ClientAuth {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_str()?.parse().map_err(|_| FromSqlError::InvalidType)
    }
}

/// Signed-in addresses are kept as one JSON column.
impl ToSql for SignedInAddresses {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(serde_json::to_string(self).expect("strings serialize")))
    }
}

impl FromSql for SignedInAddresses {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}
