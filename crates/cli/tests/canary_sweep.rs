//! The secret sweep: run the flows a person runs, error paths included, with full
//! logging; then gather every secret that existed (the client secret and API keys we
//! gave, the codes, PKCE verifiers and refresh tokens the provider saw, the tokens the
//! keychain holds) and search for each one everywhere else: every line the binary
//! printed (except `token`'s own stdout, which is its job), every file in the data
//! directory (SQLite with its -wal/-shm, locks, logs) and in the temp directory.

mod common;

use std::path::Path;
use std::process::Output;

use common::{ok, Cli};
use grantkeeper_test_support::{
    secrets_seen, BrowserMode, ProviderEmulator, EMULATED_CLIENT_ID, EMULATED_CLIENT_SECRET,
};

/// Every file below `dir`, read whole.
fn files_below(dir: &Path, found: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_below(&path, found);
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path.display().to_string(), bytes));
        }
    }
}

#[test]
fn no_secret_leaves_the_keychain() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = ProviderEmulator::start();
    let temp = tempfile::tempdir().unwrap();
    let cli = Cli::new(BrowserMode::Consent);
    let mut printed: Vec<(String, Output)> = Vec::new();
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let mut command = cli.command(args);
        command.env("GRANTKEEPER_LOG", "trace").env("TMPDIR", temp.path());
        let output = match stdin {
            Some(text) => {
                use std::io::Write;
                let mut child = command
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
                child.wait_with_output().unwrap()
            }
            None => command.stdin(std::process::Stdio::null()).output().unwrap(),
        };
        printed.push((args.join(" "), output.clone()));
        output
    };

    for (provider, integration) in [("google", "gmail"), ("github-app", "github-app")] {
        let args = [
            "providers",
            "set",
            provider,
            "--client-id",
            EMULATED_CLIENT_ID,
            "--client-secret-stdin",
            "--authorize-url",
            &emulator.url(provider, "authorize"),
            "--token-url",
            &emulator.url(provider, "token"),
            "--userinfo-url",
            &emulator.url(provider, "identity"),
            "--jwks-url",
            &emulator.url(provider, "jwks"),
            "--revocation-url",
            &emulator.url(provider, "revoke"),
        ];
        ok(&run(&args, Some(EMULATED_CLIENT_SECRET)));
        ok(&run(&["connect", integration, "--name", provider, "--json"], None));
        ok(&run(&["refresh", provider, "--json"], None));
        if provider == "github-app" {
            // Its check is the identity endpoint; Gmail's is Google's own API.
            ok(&run(&["test", provider], None));
        }
        // Broken answers from the token endpoint: each a clean error, nothing kept.
        for how in ["truncated", "html", "empty_access_token", "server_error"] {
            runtime.block_on(emulator.break_next_token_answer(how));
            assert!(!run(&["refresh", provider], None).status.success(), "{how}");
        }
    }
    ok(&run(&["status", "--json"], None));
    ok(&run(&["list", "--json"], None));
    ok(&run(&["activity", "--json"], None));
    ok(&run(&["token", "google", "--json"], None));
    ok(&run(&["exec", "google", "--", "true"], None));

    // API keys: a good one kept, a rejected one refused.
    let base = emulator.service_url("openai");
    ok(&run(&["keys", "add", "openai", "--key-stdin", "--base-url", &base], Some("sk-canary-sweep-good\n")));
    assert!(!run(
        &["keys", "add", "openai", "--key-stdin", "--base-url", &base],
        Some("sk-canary-sweep-bad\n")
    )
    .status
    .success());
    ok(&run(&["test", "OpenAI"], None));

    // The provider withdraws a grant: Reauthorize, with the provider's words.
    runtime.block_on(emulator.revoke("github-app", "ada"));
    assert_eq!(run(&["refresh", "github-app"], None).status.code(), Some(3));

    // Every secret that existed. The keychain's values are read before removal.
    let given = [EMULATED_CLIENT_SECRET, "sk-canary-sweep-good", "sk-canary-sweep-bad"];
    let secrets = runtime.block_on(secrets_seen(&given, &cli.service, &emulator));
    ok(&run(&["remove", "google"], None));
    ok(&run(&["remove", "OpenAI"], None));

    assert!(secrets.len() >= 10, "the sweep found the secrets it looks for: {}", secrets.len());

    // The one place a token belongs outside the keychain proves the sweep knows it.
    let (_, token_output) = printed.iter().find(|(args, _)| args.starts_with("token ")).unwrap();
    assert!(
        secrets.iter().any(|s| token_output.stdout.windows(s.len()).any(|w| w == s.as_bytes())),
        "the access token `token` printed is among the secrets searched for"
    );

    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    for (args, output) in &printed {
        if !args.starts_with("token ") {
            places.push((format!("stdout of `{args}`"), output.stdout.clone()));
        }
        places.push((format!("stderr of `{args}`"), output.stderr.clone()));
    }
    files_below(cli.home.path(), &mut places);
    files_below(temp.path(), &mut places);
    let logged: usize = printed.iter().map(|(_, o)| o.stderr.len()).sum();
    assert!(logged > 10_000, "trace logging ran: {logged} bytes");
    for secret in &secrets {
        for (place, bytes) in &places {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret ({}…) is in {place}",
                &secret[..6]
            );
        }
    }
}
