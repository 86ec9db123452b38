//! A locked keychain: `token` says what to unlock and exits 4, promptly, with nothing on
//! stdout; once unlocked, the same command works. A sign-in that cannot be kept revokes
//! its grant. Alone in its test binary: it locks the
//! session's keyring, which every other test uses.

mod common;

use std::time::{Duration, Instant};

use common::{ok, text, Cli};
use grantkeeper_test_support::{lock_login_collection, restart_secret_service, BrowserMode, OidcProvider};

/// Brings the keyring back unlocked even when an assertion fails.
struct Unlock;

impl Drop for Unlock {
    fn drop(&mut self) {
        restart_secret_service();
    }
}

#[test]
fn a_locked_keychain_says_what_to_unlock() {
    let cli = Cli::new(BrowserMode::Consent);
    ok(&cli
        .run_with_stdin(&["keys", "add", "openai", "--key-stdin", "--no-check"], "sk-canary-locked-0042\n"));

    let _unlock = Unlock;
    lock_login_collection();
    // No person to answer the unlock prompt here: the Secret Service reports it dismissed.
    let started = Instant::now();
    let refused = cli.run(&["token", "OpenAI"]);
    assert!(started.elapsed() < Duration::from_secs(30), "no hang: {:?}", started.elapsed());
    let message = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(4), "{message}");
    assert!(refused.stdout.is_empty());
    assert!(message.contains("unlock"), "names what to do: {message}");
    assert!(!message.contains("sk-canary-locked-0042"));

    restart_secret_service();
    let token = cli.run(&["token", "OpenAI"]);
    assert_eq!(text(&token.stdout).trim(), "sk-canary-locked-0042", "{}", text(&token.stderr));

    a_sign_in_that_cannot_be_kept_leaves_no_grant(&cli);
}

/// The person consents, but the keychain is locked when the tokens are to be kept: the
/// sign-in says what to unlock, and the grant it made is revoked at the provider rather
/// than left to an access nobody holds.
fn a_sign_in_that_cannot_be_kept_leaves_no_grant(cli: &Cli) {
    let op = OidcProvider::start();
    cli.add_public_provider(&op.issuer);
    lock_login_collection();
    let refused = cli.run(&["connect", "Local OP", "--name", "Work"]);
    let message = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(4), "{message}");
    assert!(message.contains("unlock"), "{message}");
    let seen = tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    assert_eq!(seen.token_requests.get("authorization_code"), Some(&1), "the person did sign in");
    assert_eq!(seen.grants.get("grace"), Some(&0), "the grant it made is revoked");

    restart_secret_service();
    let listed = ok(&cli.run(&["list"]));
    assert!(!listed.contains("Work"), "nothing was kept: {listed}");
    let activity = ok(&cli.run(&["activity"]));
    assert!(activity.contains("could not be saved, so the access it granted was revoked"), "{activity}");
}
