//! Waking from suspend: the scheduler looks at its deadlines at once, rather than when
//! its current sleep ends; what a provider asked to wait for still waits. The "system bus" here is the test session's private bus
//! (DBUS_SYSTEM_BUS_ADDRESS points at it), and the signal is logind's own.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{engine_as_the_app_runs, Setup};
use grantkeeper_engine::ConnectionStatus;

#[tokio::test(flavor = "multi_thread")]
async fn resuming_from_suspend_refreshes_what_fell_due_while_asleep() {
    let setup = Setup::new();
    let (emulator, engine, scheduler) = engine_as_the_app_runs(&setup).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // it sleeps towards the far deadline

    // While "asleep", the wall clock passed the refresh deadline (written as another
    // process would, so the scheduler is not told).
    let db = rusqlite::Connection::open(setup.home.path().join("grantkeeper.sqlite3")).unwrap();
    db.execute("UPDATE credentials SET refresh_due_at = '2000-01-01T00:00:00Z'", []).unwrap();
    let refreshes = || async {
        emulator
            .log()
            .await
            .iter()
            .filter(|r| r["body"].as_str().unwrap_or("").contains("grant_type=refresh_token"))
            .count()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(refreshes().await, 0, "the scheduler is still asleep");

    signal("/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", "boolean:false");
    // The provider counts the request before Grantkeeper has stored the answer: wait
    // for the stored state.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while engine.connection("Mail").unwrap().last_refreshed_at.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "no refresh after resuming");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refreshes().await, 1);

    // The provider asks to be left alone for two minutes (429, Retry-After: 120): the
    // network coming back does not make the scheduler ask again before then.
    emulator.break_next_token_answer("rate_limited").await;
    db.execute("UPDATE credentials SET refresh_due_at = '2000-01-02T00:00:00Z'", []).unwrap();
    signal("/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", "boolean:false");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while engine.connection("Mail").unwrap().status != ConnectionStatus::Retrying {
        assert!(tokio::time::Instant::now() < deadline, "the 429 did not make it retry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    signal("/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager.StateChanged", "uint32:70");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    scheduler.abort();
    assert_eq!(refreshes().await, 2, "asked once more, not again before its Retry-After");
}

/// Sends a D-Bus signal on the bus standing in for the system bus.
fn signal(path: &str, member: &str, argument: &str) {
    let sent = Command::new("dbus-send")
        .args(["--session", "--type=signal", path, member, argument])
        .status()
        .expect("dbus-send (dbus package) is installed");
    assert!(sent.success());
}
