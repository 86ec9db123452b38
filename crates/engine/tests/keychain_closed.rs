//! A Secret Service with no default collection open (KeePassXC running, its database not
//! opened yet, as at login): Grantkeeper's entries are out of reach, not gone, so no
//! connection is marked Reauthorize for it. Alone in its test binary: it takes the
//! session keyring's default alias away, which every other test relies on.

mod common;

use std::process::Command;

use common::{engine_using_emulator, named};
use grantkeeper_engine::{ConnectionStatus, Error};
use grantkeeper_test_support::BrowserMode;

/// Points the Secret Service's `default` alias at `collection` ("/": at none).
fn set_default_alias(collection: &str) {
    let set = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.SetAlias",
            "string:default",
            &format!("objpath:{collection}"),
        ])
        .output()
        .expect("dbus-send (dbus package) is installed");
    assert!(set.status.success(), "{set:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_in_a_keyring_that_is_not_open_are_not_taken_for_gone() {
    let (_emulator, setup, engine) = engine_using_emulator("google", true).await;
    engine.connect("gmail", named("Mail")).await.unwrap().outcome.await.unwrap().unwrap();

    set_default_alias("/");
    let restarted = setup.engine(BrowserMode::Consent);
    let repaired = restarted.repair().await;
    assert!(matches!(repaired, Err(Error::KeychainUnavailable(_))), "{repaired:?}");
    assert_eq!(restarted.connection("Mail").unwrap().status, ConnectionStatus::Active);
    let error = restarted.access_token("Mail", std::time::Duration::ZERO).await.unwrap_err();
    assert!(error.to_string().contains("no default keyring open"), "{error}");

    set_default_alias("/org/freedesktop/secrets/collection/login");
    restarted.repair().await.unwrap();
    assert!(!restarted.access_token("Mail", std::time::Duration::ZERO).await.unwrap().1.expose().is_empty());
}
