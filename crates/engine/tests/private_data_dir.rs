//! The data directory and the lock files in it are the person's alone, whatever the
//! umask: made owner-only as they are created, and an existing directory that others
//! can read (left by an older version) is made owner-only on start.
//! Alone in its test binary: it sets the process's umask.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{named, use_emulator, Setup};
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::Config;
use grantkeeper_test_support::{browser_command, BrowserMode, ProviderEmulator};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_directory_and_its_lock_files_are_owner_only_under_umask_022() {
    // SAFETY: umask only sets the mask for files this process creates from now on.
    unsafe { libc::umask(0o022) };
    let setup = Setup::new();
    let browser = Browser::Commands(vec![browser_command(BrowserMode::Consent, "ada")]);

    let fresh = setup.home.path().join("new/grantkeeper");
    drop(setup.open(Config { home: fresh.clone(), ..setup.config(browser.clone()) }));
    assert_eq!(mode(&fresh), 0o700, "a new data directory");

    let existing = setup.home.path().join("made-by-an-older-version");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o755)).unwrap();
    let engine = setup.open(Config { home: existing.clone(), ..setup.config(browser) });
    assert_eq!(mode(&existing), 0o700, "an existing data directory that others could read");

    // A refresh creates the lock directory and the credential's lock file.
    let emulator = ProviderEmulator::start();
    use_emulator(&engine, &emulator, "google", true).await;
    engine.connect("gmail", named("Mail")).await.unwrap().outcome.await.unwrap().unwrap();
    engine.refresh_now("Mail").await.unwrap();
    let locks = existing.join("locks");
    assert_eq!(mode(&locks), 0o700, "the lock directory");
    let lock_files: Vec<_> = std::fs::read_dir(&locks).unwrap().flatten().map(|entry| entry.path()).collect();
    assert_eq!(lock_files.len(), 1, "{lock_files:?}");
    assert_eq!(mode(&lock_files[0]), 0o600, "the credential's lock file");
}
