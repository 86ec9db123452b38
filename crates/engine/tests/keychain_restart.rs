//! The Secret Service can go away and come back while Grantkeeper runs (the desktop
//! restarts gnome-keyring, KeePassXC is closed and opened again). The keychain then
//! opens a new session by itself; the app needs no restart. Alone in its test binary:
//! it stops the session's keyring, which every other test uses.

use grantkeeper_engine::{Keychain, Secret, SecretStore};
use grantkeeper_test_support::{require_session, restart_secret_service, unique_keychain_service};

#[test]
fn the_keychain_is_found_again_after_the_secret_service_restarts() {
    require_session();
    let keychain = Keychain::new(unique_keychain_service());
    keychain.write("restart/probe", &Secret::new("canary-before-restart")).unwrap();

    restart_secret_service();

    let read = keychain.read("restart/probe").expect("the keychain answers after the restart");
    assert_eq!(read.as_ref().map(Secret::expose), Some("canary-before-restart"));
    keychain.write("restart/probe", &Secret::new("canary-after-restart")).unwrap();
    let written = keychain.read("restart/probe").unwrap();
    assert_eq!(written.as_ref().map(Secret::expose), Some("canary-after-restart"));
    keychain.delete("restart/probe").unwrap();
}
