//! Changes made by another process (the CLI, a second app) reach this one: a watch on
//! the database's write-ahead log turns foreign writes into engine events, so the
//! window reloads and the scheduler looks at the new deadlines.

use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use crate::{Engine, EngineEvent, Error, Result};

/// Writes come in bursts (a transaction touches the WAL several times).
const SETTLE: Duration = Duration::from_millis(150);

/// Keeps the watch alive; dropping it stops watching.
pub struct DatabaseWatch {
    _watcher: notify::RecommendedWatcher,
}

impl Engine {
    /// Starts announcing database changes as `ConnectionsChanged` and
    /// `ProvidersChanged`. Our own writes are announced too; a reload is cheap.
    pub fn watch_database(self: &Arc<Self>) -> Result<DatabaseWatch> {
        let database = self.config.database_path();
        let database_name = database.file_name().expect("a file name").to_owned();
        let wal_name = database.with_extension("sqlite3-wal").file_name().expect("a file name").to_owned();
        let (changed_tx, mut changed_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            let written = matches!(event.kind, EventKind::Modify(_) | EventKind::Create(_));
            let ours = |path: &std::path::PathBuf| {
                path.file_name().is_some_and(|name| name == database_name || name == wal_name)
            };
            if written && event.paths.iter().any(ours) {
                let _ = changed_tx.send(());
            }
        })
        .map_err(|e| Error::Internal(format!("cannot watch the data directory: {e}")))?;
        watcher
            .watch(&self.config.home, RecursiveMode::NonRecursive)
            .map_err(|e| Error::Internal(format!("cannot watch the data directory: {e}")))?;

        let events = self.events.clone();
        tokio::spawn(async move {
            while changed_rx.recv().await.is_some() {
                tokio::time::sleep(SETTLE).await;
                while changed_rx.try_recv().is_ok() {}
                events.publish(EngineEvent::ConnectionsChanged);
                events.publish(EngineEvent::ProvidersChanged);
            }
        });
        Ok(DatabaseWatch { _watcher: watcher })
    }
}
