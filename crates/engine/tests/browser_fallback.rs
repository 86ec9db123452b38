//! Without a desktop portal on the session bus, the system browser is started as before:
//! the `open` crate runs `xdg-open URL` (here a stand-in on PATH that records the URL and
//! signs in), and the sign-in completes. Alone in its test binary: it changes PATH.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{named, use_emulator, Setup};
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::ConnectionStatus;
use grantkeeper_test_support::{browser_command, BrowserMode, ProviderEmulator};

#[tokio::test(flavor = "multi_thread")]
async fn without_a_desktop_portal_the_system_browser_is_started_by_xdg_open() {
    let setup = Setup::new();
    let bin = tempfile::tempdir().unwrap();
    let opened = bin.path().join("opened");
    let xdg_open = bin.path().join("xdg-open");
    let browser = browser_command(BrowserMode::Consent, "ada");
    let script =
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\nexec {browser} \"$1\"\n", opened.display());
    std::fs::write(&xdg_open, script).unwrap();
    std::fs::set_permissions(&xdg_open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", format!("{}:{path}", bin.path().display()));

    let emulator = ProviderEmulator::start();
    let engine = setup.engine_opening(Browser::System);
    use_emulator(&engine, &emulator, "github", true).await;
    let pending = engine.connect("github", named("GitHub")).await.unwrap();
    let connection = pending.outcome.await.unwrap().unwrap();

    assert_eq!(connection.status, ConnectionStatus::Active);
    assert_eq!(std::fs::read_to_string(&opened).unwrap(), format!("{}\n", pending.started.authorize_url));
}
