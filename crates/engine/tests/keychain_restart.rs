//! The Secret Service can go away and come back while Grantkeeper runs (the desktop
//! restarts gnome-keyring, KeePassXC is closed and opened again). The keychain then
//! opens a new session by itself; the app needs no restart. Alone in its test binary:
//! it stops the session's keyring, which every other test uses.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use grantkeeper_engine::{Keychain, Secret, SecretStore};
use grantkeeper_test_support::{require_session, unique_keychain_service};

fn bus_call(method: &str) -> String {
    let output = Command::new("dbus-send")
        .args(["--session", "--print-reply=literal", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
        .arg(format!("org.freedesktop.DBus.{method}"))
        .arg("string:org.freedesktop.secrets")
        .output()
        .expect("dbus-send (dbus package) is installed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_keychain_is_found_again_after_the_secret_service_restarts() {
    require_session();
    let keychain = Keychain::new(unique_keychain_service());
    keychain.write("restart/probe", &Secret::new("canary-before-restart")).unwrap();

    let pid = bus_call("GetConnectionUnixProcessID");
    let pid = pid.split_whitespace().last().expect("the keyring's process id").to_owned();
    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    wait_until("the keyring stopped", || bus_call("NameHasOwner").contains("false"));

    // The same login keyring, unlocked with the session's password (tests/support/session.sh).
    let mut keyring = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("gnome-keyring is installed");
    {
        use std::io::Write;
        keyring.stdin.take().unwrap().write_all(b"test-password").unwrap();
    }
    keyring.wait().unwrap();
    wait_until("the keyring is back", || bus_call("NameHasOwner").contains("true"));

    let read = keychain.read("restart/probe").expect("the keychain answers after the restart");
    assert_eq!(read.as_ref().map(Secret::expose), Some("canary-before-restart"));
    keychain.write("restart/probe", &Secret::new("canary-after-restart")).unwrap();
    assert_eq!(
        keychain.read("restart/probe").unwrap().as_ref().map(Secret::expose),
        Some("canary-after-restart")
    );
    keychain.delete("restart/probe").unwrap();
}
