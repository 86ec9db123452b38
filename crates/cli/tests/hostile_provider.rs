//! A provider that says hostile things: terminal escape sequences and a bidirectional
//! override in the account it names and in its errors, and a token Grantkeeper cannot
//! use. What it says is stored and printed without them, and a refused answer leaves
//! nothing behind.

mod common;

use common::{ok, text, Cli};
use grantkeeper_test_support::{
    browser_command, contains, data_dir_bytes, secret_tool_keys, BrowserMode, OidcProvider, ProviderEmulator,
};

/// An escape sequence that retitles the terminal, one that clears it, and a
/// right-to-left override.
const HOSTILE_LOGIN: &str = "ada\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}";

fn printable(bytes: &[u8]) -> bool {
    let text = text(bytes);
    !text.chars().any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}')
}

#[test]
fn an_account_named_with_escape_sequences_is_kept_and_printed_without_them() {
    let op = OidcProvider::start();
    // Single quotes keep the login one word for the browser command's parser.
    let browser = browser_command(BrowserMode::Consent, &format!("'{HOSTILE_LOGIN}'"));
    let cli = Cli::new(BrowserMode::Consent).with_browser(&browser);
    cli.add_public_provider(&op.issuer);

    let connected = cli.run(&["connect", "Local OP", "--name", "Work"]);
    ok(&connected);
    let listed = cli.run(&["list"]);
    let as_json = cli.run(&["list", "--json"]);
    for (what, output) in [("connect", &connected), ("list", &listed), ("list --json", &as_json)] {
        assert!(printable(&output.stdout) && printable(&output.stderr), "{what}: {output:?}");
    }
    let connections: serde_json::Value = serde_json::from_str(&ok(&as_json)).unwrap();
    let account = connections[0]["account"].as_str().unwrap();
    assert!(account.starts_with("ada ]0;owned") && account.ends_with("@example.test"), "{account:?}");
    assert!(printable(account.as_bytes()), "{account:?}");

    let disk = data_dir_bytes(cli.home.path());
    assert!(
        !contains(&disk, "\u{1b}]0;owned") && !contains(&disk, "\u{202e}"),
        "stored as the provider said it"
    );
}

#[test]
fn a_provider_error_with_escape_sequences_and_a_dpop_token_are_refused_plainly() {
    let emulator = ProviderEmulator::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cli = Cli::new(BrowserMode::Consent);
    cli.use_emulator(&emulator, "google");

    runtime.block_on(emulator.break_next_token_answer("escapes"));
    let refused = cli.run(&["connect", "gmail", "--name", "Mail"]);
    let message = text(&refused.stderr);
    assert!(!refused.status.success());
    assert!(message.contains("invalid_grant") && message.contains("sign in"), "{message}");
    assert!(printable(&refused.stderr), "{message:?}");

    runtime.block_on(emulator.break_next_token_answer("dpop"));
    let refused = cli.run(&["connect", "gmail", "--name", "Mail"]);
    let message = text(&refused.stderr);
    assert!(!refused.status.success());
    assert!(message.contains("“dpop” token") && message.contains("only use bearer tokens"), "{message}");
    assert!(!message.contains("canary-dpop"), "{message}");

    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]", "nothing saved");
    assert!(!secret_tool_keys(&cli.service).iter().any(|k| k.starts_with("credential/")));
    assert!(!contains(&data_dir_bytes(cli.home.path()), "canary-dpop"));
}
