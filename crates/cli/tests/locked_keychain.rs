//! A locked keychain: `token` says what to unlock and exits 4, promptly, with nothing on
//! stdout; once unlocked, the same command works. Alone in its test binary: it locks the
//! session's keyring, which every other test uses.

mod common;

use std::time::{Duration, Instant};

use common::{ok, text, Cli};
use grantkeeper_test_support::{lock_login_collection, restart_secret_service, BrowserMode};

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
}
