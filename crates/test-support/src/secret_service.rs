//! The session's Secret Service (gnome-keyring, started by tests/support/session.sh)
//! stopped, locked and started again, for the tests of what Grantkeeper does then.
//! Each such test lives alone in its test binary: the other tests share this keyring.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The password tests/support/session.sh unlocks the login keyring with.
const SESSION_PASSWORD: &[u8] = b"test-password";

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

/// Stops the Secret Service and starts it again on the same login keyring, unlocked.
pub fn restart_secret_service() {
    set_prompt_display(&std::env::var("DISPLAY").unwrap_or_default());
    let pid = bus_call("GetConnectionUnixProcessID");
    if let Some(pid) = pid.split_whitespace().last() {
        assert!(Command::new("kill").arg(pid).status().unwrap().success());
        wait_until("the keyring stopped", || bus_call("NameHasOwner").contains("false"));
    }
    let mut keyring = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("gnome-keyring is installed");
    keyring.stdin.take().unwrap().write_all(SESSION_PASSWORD).unwrap();
    keyring.wait().unwrap();
    wait_until("the keyring is back", || bus_call("NameHasOwner").contains("true"));
}

/// Services the bus starts from now on (the keyring's unlock prompter) see `display`.
fn set_prompt_display(display: &str) {
    let status = Command::new("dbus-update-activation-environment")
        .arg(format!("DISPLAY={display}"))
        .status()
        .expect("dbus-update-activation-environment (dbus package) is installed");
    assert!(status.success());
}

/// Locks the login collection, as the desktop does when the screen locks (on some
/// setups) or the person locks it in Seahorse, on a machine with nobody at the screen:
/// the unlock prompt cannot be shown, so the keyring reports it dismissed.
/// `restart_secret_service` brings the collection back unlocked.
pub fn lock_login_collection() {
    set_prompt_display("");
    let status = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .stdout(Stdio::null())
        .status()
        .expect("dbus-send (dbus package) is installed");
    assert!(status.success(), "the login collection could not be locked");
}
