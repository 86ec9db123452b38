//! The text kept for statuses, event kinds and flow outcomes stays what earlier versions
//! wrote (and what serde shows), and text this version does not know reads as before;
//! connections list in the order they were added; a database a newer version wrote is
//! left alone, and a new one opened by several at once is migrated once; names stay
//! unique; a grant is kept only over the credential it read; a removal orphans no
//! keychain entry.

use super::{
    CredentialKind, CredentialRecord, Deleted, FlowStatus, GrantSaved, NewConnectionRow, NewEvent, Renamed,
    Store,
};
use crate::api::{ConnectionStatus, EventKind};
use crate::credential::GrantTimes;
use crate::Timestamp;

const AT: &str = "2026-01-01T00:00:00Z";

fn at() -> Timestamp {
    Timestamp::parse(AT).expect("an RFC 3339 time")
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("grantkeeper.sqlite3")).unwrap();
    (dir, store)
}

/// The first column of the first row, as SQLite holds it.
fn raw(store: &Store, sql: &str) -> String {
    store.with(|db| db.query_row(sql, [], |row| row.get(0))).unwrap()
}

fn credential(status: ConnectionStatus) -> CredentialRecord {
    CredentialRecord {
        id: "credential".into(),
        provider_id: "google".into(),
        subject: "subject".into(),
        account: None,
        scopes: Vec::new(),
        token_secret_key: "entry".into(),
        status,
        status_reason: None,
        times: GrantTimes::default(),
        last_refreshed_at: None,
        created_at: at(),
        kind: CredentialKind::OAuth,
        pending_token_key: None,
        addresses: None,
        signed_in_at: None,
        token_details: Default::default(),
    }
}

/// Saves `credential` over what the store holds for its account, as a sign-in does.
fn keep(store: &Store, credential: &CredentialRecord, connection: Option<&NewConnectionRow>) {
    let kept = store.credential_for_subject(&credential.provider_id, &credential.subject).unwrap();
    let replaced = kept.as_ref().map(|k| k.token_secret_key.as_str());
    assert_eq!(store.save_grant(credential, connection, replaced).unwrap(), GrantSaved::Saved);
}

#[test]
fn statuses_keep_their_text_and_unknown_text_reads_as_reauthorize() {
    let (_dir, store) = open();
    for (status, text) in [
        (ConnectionStatus::Active, "active"),
        (ConnectionStatus::Retrying, "retrying"),
        (ConnectionStatus::NeedsMoreAccess, "needs_more_access"),
        (ConnectionStatus::Reauthorize, "reauthorize"),
        (ConnectionStatus::Pending, "pending"),
    ] {
        keep(&store, &credential(status), None);
        assert_eq!(raw(&store, "SELECT status FROM credentials"), text);
        assert_eq!(serde_json::to_value(status).unwrap(), text);
        assert_eq!(store.credential("credential").unwrap().status, status);
    }
    store.execute("UPDATE credentials SET status = 'written_by_a_newer_version'", []).unwrap();
    assert_eq!(store.credential("credential").unwrap().status, ConnectionStatus::Reauthorize);
}

#[test]
fn event_kinds_keep_their_text_and_unknown_kinds_are_skipped() {
    let (_dir, store) = open();
    let kind = EventKind::NeedsReauthorization;
    let event = NewEvent {
        kind,
        at: at(),
        credential_id: None,
        connection_id: None,
        subject: Some("Gmail"),
        detail: None,
        program: None,
    };
    store.record_event(&event).unwrap();
    store.execute("INSERT INTO events (at, kind) VALUES (?1, 'written_by_a_newer_version')", [AT]).unwrap();
    assert_eq!(raw(&store, "SELECT kind FROM events ORDER BY id LIMIT 1"), "needs_reauthorization");
    assert_eq!(serde_json::to_value(kind).unwrap(), "needs_reauthorization");
    let read: Vec<EventKind> = store.events(10).unwrap().into_iter().map(|event| event.kind).collect();
    assert_eq!(read, [kind]);
}

#[test]
fn flow_statuses_keep_their_text() {
    let (_dir, store) = open();
    store.record_flow_started("flow", "google", at()).unwrap();
    assert_eq!(raw(&store, "SELECT status FROM flows"), "pending");
    for (status, text) in [
        (FlowStatus::Completed, "completed"),
        (FlowStatus::Failed, "failed"),
        (FlowStatus::Expired, "expired"),
        (FlowStatus::Cancelled, "cancelled"),
    ] {
        store.record_flow_finished("flow", status, None, None, at()).unwrap();
        assert_eq!(raw(&store, "SELECT status FROM flows"), text);
    }
}

/// Connections added within one second (a script adding API keys) list in the order
/// they were added, not in the random order of their ids.
#[test]
fn connections_added_in_the_same_second_list_in_the_order_added() {
    let (_dir, store) = open();
    let names = ["first", "second", "third", "fourth"];
    for (id, name) in ["d", "b", "c", "a"].into_iter().zip(names) {
        let row = NewConnectionRow {
            id: id.into(),
            name: name.into(),
            integration: "gmail".into(),
            created_at: at(),
        };
        keep(&store, &credential(ConnectionStatus::Active), Some(&row));
    }
    let listed: Vec<String> = store.connections().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(listed, names);
    let shared: Vec<String> =
        store.connections_on("credential").unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(shared, names);
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_as_it_was() {
    let (dir, store) = open();
    let path = dir.path().join("grantkeeper.sqlite3");
    let current: u32 = store.with(|db| db.query_row("PRAGMA user_version", [], |row| row.get(0))).unwrap();
    let newer = current + 1;
    store.with(|db| db.pragma_update(None, "user_version", newer)).unwrap();
    drop(store);
    let error = Store::open(&path).err().expect("refused").to_string();
    assert!(
        error.contains("a newer Grantkeeper wrote it") && error.contains(&format!("version {newer}")),
        "{error}"
    );
    let db = rusqlite::Connection::open(&path).unwrap();
    let kept: u32 = db.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!(kept, newer);
}

/// A damaged database file is refused with what to do, and left as it was.
#[test]
fn a_damaged_database_is_refused_with_what_to_do_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grantkeeper.sqlite3");
    let damaged = b"SQLite format 3\0 and then nothing a database holds".repeat(100);
    std::fs::write(&path, &damaged).unwrap();
    let error = Store::open(&path).err().expect("refused").to_string();
    assert!(error.contains("It is damaged: put back a copy from a backup, or move it aside"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), damaged);
}

fn connection_named(id: &str, name: &str) -> NewConnectionRow {
    NewConnectionRow { id: id.into(), name: name.into(), integration: "gmail".into(), created_at: at() }
}

/// A name taken while a sign-in was under way (another process finished first) is
/// numbered rather than kept twice or losing the sign-in; a rename to a taken name is
/// refused.
#[test]
fn names_stay_unique_without_regard_to_case() {
    let (_dir, store) = open();
    let credential = credential(ConnectionStatus::Active);
    for (id, name) in [("a", "Work"), ("b", "work"), ("c", "Work")] {
        keep(&store, &credential, Some(&connection_named(id, name)));
    }
    let names: Vec<String> = store.connections().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["Work", "work (2)", "Work (3)"]);
    assert_eq!(store.rename_connection("c", "Work (3)", "WORK").unwrap(), Renamed::NameTaken);
    assert_eq!(store.rename_connection("c", "Work (3)", "Home").unwrap(), Renamed::Renamed);
    // Found as "Work (3)" by a process that comes second: renamed meanwhile, it is not
    // renamed again, and is not told it was.
    assert_eq!(store.rename_connection("c", "Work (3)", "Away").unwrap(), Renamed::ChangedMeanwhile);
    assert_eq!(store.free_connection_name("work").unwrap(), "work (3)");
}

/// A sign-in read the account's credential before another one was kept: nothing it
/// would write is written.
#[test]
fn a_grant_is_kept_only_over_what_was_read() {
    let (_dir, store) = open();
    let first = credential(ConnectionStatus::Active);
    assert_eq!(store.save_grant(&first, None, None).unwrap(), GrantSaved::Saved);
    let late = CredentialRecord { id: "late".into(), token_secret_key: "late entry".into(), ..first.clone() };
    let changed = Some(&connection_named("c", "Late"));
    assert_eq!(store.save_grant(&late, changed, None).unwrap(), GrantSaved::ChangedMeanwhile);
    let merged = CredentialRecord { token_secret_key: "newer".into(), ..first.clone() };
    assert_eq!(store.save_grant(&merged, None, Some("older")).unwrap(), GrantSaved::ChangedMeanwhile);
    assert_eq!(raw(&store, "SELECT token_secret_key FROM credentials"), "entry");
    assert!(store.connections().unwrap().is_empty());
    assert_eq!(store.save_grant(&merged, None, Some("entry")).unwrap(), GrantSaved::Saved);
    assert_eq!(raw(&store, "SELECT token_secret_key FROM credentials"), "newer");
}

/// A verdict about tokens another process has replaced since (a reconnect, a refresh)
/// does not mark the renewed credential Reauthorize.
#[test]
fn reauthorize_is_marked_only_on_the_tokens_it_is_about() {
    let (_dir, store) = open();
    keep(&store, &credential(ConnectionStatus::Active), None);
    assert!(!store.mark_reauthorize("credential", "replaced entry", "gone").unwrap());
    assert_eq!(raw(&store, "SELECT status FROM credentials"), "active");
    assert!(store.mark_reauthorize("credential", "entry", "gone").unwrap());
    assert_eq!(raw(&store, "SELECT status FROM credentials"), "reauthorize");
}

/// A credential removed while a refresh it began is unsettled: the entry that refresh
/// was writing is noted for deletion, and the entry the revocation reads is not.
#[test]
fn an_unsettled_refresh_entry_is_not_orphaned_by_a_removal() {
    let (_dir, store) = open();
    keep(&store, &credential(ConnectionStatus::Active), Some(&connection_named("c", "Mail")));
    store.begin_refresh("credential", "entry written by the refresh").unwrap();
    assert!(matches!(store.delete_connection("c", at()).unwrap(), Deleted::CredentialGone(_)));
    assert_eq!(store.stale_secrets(Timestamp::now()).unwrap(), ["entry written by the refresh"]);
}

/// Duplicate names an earlier version let through keep their names, the later ones
/// with the start of their id added, when the database is upgraded.
#[test]
fn the_upgrade_tells_duplicate_names_apart() {
    let (dir, store) = open();
    keep(&store, &credential(ConnectionStatus::Active), None);
    store
        .with(|db| {
            db.execute_batch(
                "DROP INDEX connections_name;
                 DROP TRIGGER pending_secret_orphaned;
                 ALTER TABLE resources DROP COLUMN identifier;
                 ALTER TABLE credentials DROP COLUMN retry_not_before;
                 ALTER TABLE pending_revocations DROP COLUMN account_subject;
                 INSERT INTO connections (id, name, integration, credential_id, created_at) VALUES
                    ('1234567890', 'Work', 'gmail', 'credential', '2026-01-01T00:00:00Z'),
                    ('abcdefghij', 'WORK', 'gmail', 'credential', '2026-01-02T00:00:00Z'),
                    ('zyxwvutsrq', 'Home', 'gmail', 'credential', '2026-01-03T00:00:00Z');
                 PRAGMA user_version = 19;",
            )
        })
        .unwrap();
    drop(store);
    let store = Store::open(&dir.path().join("grantkeeper.sqlite3")).unwrap();
    let names: Vec<String> = store.connections().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["Work", "WORK (abcdefgh)", "Home"]);
    assert_eq!(
        store.rename_connection("zyxwvutsrq", "Home", "work").unwrap(),
        Renamed::NameTaken,
        "the index holds"
    );
}

/// Several processes opening one new database at once (a script's first commands on a
/// new machine) each find it brought up to date; none fails on a table another made.
#[test]
fn a_new_database_opened_at_once_by_several_is_migrated_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grantkeeper.sqlite3");
    let opening: Vec<_> = (0..6)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || Store::open(&path).map(drop).map_err(|e| e.to_string()))
        })
        .collect();
    for opened in opening {
        opened.join().unwrap().unwrap();
    }
}

/// Another process holding the database for writing past the wait: the error says that
/// nothing changed and what to do, not only SQLite's "database is locked".
/// Tables changed by another program or version: said in words with what to do, not
/// with the statement SQLite could not run.
#[test]
fn tables_that_are_not_this_versions_say_what_to_do() {
    let (dir, store) = open();
    let other = rusqlite::Connection::open(dir.path().join("grantkeeper.sqlite3")).unwrap();
    other.execute_batch("ALTER TABLE connections DROP COLUMN consent").unwrap();
    let error = store.connections().unwrap_err().to_string();
    assert!(error.contains("its tables are not the ones this Grantkeeper keeps (no such column"), "{error}");
    assert!(error.contains("Put back a copy from a backup") && !error.contains("SELECT"), "{error}");
}

#[test]
fn a_database_kept_busy_by_another_program_says_what_to_do() {
    let (dir, store) = open();
    let other = rusqlite::Connection::open(dir.path().join("grantkeeper.sqlite3")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let error = store.rename_connection("any", "Old", "Work").unwrap_err().to_string();
    assert!(error.contains("database is locked") && error.contains("nothing was changed"), "{error}");
    assert!(error.contains("quit it"), "{error}");
}
