//! A refresh lock file held by another process (a stuck Grantkeeper, or anything else
//! that locked it) stops a refresh after a bounded wait, with an error that names the
//! file, instead of stalling every refresh of that credential for good.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{named, use_emulator, Setup};
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::{Config, Engine, Error};
use grantkeeper_test_support::{browser_command, secret_tool_keys, BrowserMode, ProviderEmulator};

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_lock_held_elsewhere_ends_in_an_error_naming_the_lock_file() {
    let setup = Setup::new();
    let engine = impatient(&setup);
    let emulator = ProviderEmulator::start();
    use_emulator(&engine, &emulator, "google", true).await;
    engine.connect("gmail", named("Mail")).await.unwrap().outcome.await.unwrap().unwrap();
    engine.refresh_now("Mail").await.unwrap();
    let lock_files: Vec<_> =
        std::fs::read_dir(setup.home.path().join("locks")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(lock_files.len(), 1, "{lock_files:?}");

    // Another open file's lock conflicts as another process's does (flock(2)).
    let held = std::fs::File::open(&lock_files[0]).unwrap();
    held.lock().unwrap();
    let error = engine.refresh_now("Mail").await.unwrap_err();
    let Error::RefreshLocked { path, .. } = &error else { panic!("not RefreshLocked: {error:?}") };
    assert_eq!(Path::new(path), lock_files[0]);
    assert!(error.to_string().contains(path.as_str()), "{error}");
    assert_eq!(error.code().as_str(), "refresh_locked");

    // Once it is let go, refreshes go on.
    drop(held);
    engine.refresh_now("Mail").await.unwrap();
}

/// "Mail" at the emulated Google, its refresh lock held by the test (as by another
/// process), and an engine that waits 20 s for it.
struct LockHeld {
    setup: Setup,
    emulator: ProviderEmulator,
    patient: Arc<Engine>,
    held: std::fs::File,
}

async fn mail_with_its_lock_held() -> LockHeld {
    let setup = Setup::new();
    let patient =
        setup.open(Config { refresh_lock_wait: Duration::from_secs(20), ..setup.config(consenting()) });
    let emulator = ProviderEmulator::start();
    use_emulator(&patient, &emulator, "google", true).await;
    patient.connect("gmail", named("Mail")).await.unwrap().outcome.await.unwrap().unwrap();
    patient.refresh_now("Mail").await.unwrap();
    let lock_file = std::fs::read_dir(setup.home.path().join("locks")).unwrap().flatten().next().unwrap();
    let held = std::fs::File::open(lock_file.path()).unwrap();
    held.lock().unwrap();
    LockHeld { setup, emulator, patient, held }
}

/// A second engine on the same data, that goes on without a lock held past 300 ms.
fn impatient(setup: &Setup) -> Arc<Engine> {
    setup.open(Config { refresh_lock_wait: Duration::from_millis(300), ..setup.config(consenting()) })
}

fn consenting() -> Browser {
    Browser::Commands(vec![browser_command(BrowserMode::Consent, "ada")])
}

/// A refresh that waited for the lock while its connection was removed (the removal
/// going on once a stuck holder outlasted its own wait) fails as for a connection that
/// is not there, by the name it was asked for, not by an id the person never typed.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_removed_while_its_refresh_waits_is_not_found_by_its_name() {
    let LockHeld { setup, emulator: _emulator, patient, held } = mail_with_its_lock_held().await;

    let waiting = tokio::spawn({
        let patient = patient.clone();
        async move { patient.refresh_now("Mail").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let remover = impatient(&setup);
    remover.remove_connection("Mail").await.unwrap();
    drop(held);

    let error = waiting.await.unwrap().unwrap_err();
    assert!(matches!(&error, Error::NotFound { what: "connection", key } if key == "Mail"), "{error:?}");
}

/// A reconnect that brought no refresh token waits for the lock to read the one kept;
/// when the connection, the last on its credential, was removed meanwhile, it keeps
/// nothing: no credential without a connection, no tokens in the keychain.
#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_whose_connection_was_removed_while_it_waited_keeps_nothing() {
    let LockHeld { setup, emulator, patient, held } = mail_with_its_lock_held().await;

    emulator.omit_next_refresh_token().await;
    let reconnect = patient.reconnect("Mail").await.unwrap();
    let token_requests = || async {
        let log = emulator.log().await;
        log.iter().filter(|request| request["path"] == "/google/token").count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while token_requests().await < 3 {
        assert!(std::time::Instant::now() < deadline, "the reconnect's code never reached Google");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Past the code exchange, the sign-in soon waits for the lock.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let remover = impatient(&setup);
    remover.remove_connection("Mail").await.unwrap();
    drop(held);

    let error = reconnect.outcome.await.unwrap().unwrap_err();
    assert!(matches!(&error, Error::NotFound { what: "connection", key } if key == "Mail"), "{error:?}");
    assert!(patient.connections().unwrap().is_empty());
    let kept = secret_tool_keys(&setup.service);
    assert!(kept.iter().all(|key| !key.starts_with("credential/")), "tokens left in the keychain: {kept:?}");
    assert_eq!(emulator.grant_revoked("google", "ada").await, Some(true));
}
