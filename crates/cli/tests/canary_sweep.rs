//! The secret sweep: run the flows a person runs, error paths included, with full
//! logging; then gather every secret that existed (the client secret and API keys we
//! gave, the codes, PKCE verifiers and refresh tokens the provider saw, the tokens the
//! keychain holds) and search for each one everywhere else: every line the binary
//! printed (except `token`'s own stdout, which is its job), every file in the data
//! directory (SQLite with its -wal/-shm, locks, logs) and in the temp directory. The MCP
//! bridge is swept too, as an AI client (the reference SDK's) runs it.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{ok, output_with_stdin, strs, use_emulator, Cli};
use grantkeeper_test_support::mcp::McpGuarded;
use grantkeeper_test_support::{
    repo_root, secrets_seen, BrowserMode, ProviderEmulator, EMULATED_CLIENT_SECRET,
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

/// The binary run with full logging and a temp directory of its own, and everything
/// it printed, by command line.
struct Sweep {
    cli: Cli,
    temp: tempfile::TempDir,
    printed: Vec<(String, Output)>,
}

impl Sweep {
    fn run(&mut self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = self.cli.command(args);
        command.env("GRANTKEEPER_LOG", "trace").env("TMPDIR", self.temp.path());
        let output = match stdin {
            Some(text) => output_with_stdin(command, text),
            None => command.stdin(Stdio::null()).output().unwrap(),
        };
        self.printed.push((args.join(" "), output.clone()));
        output
    }

    /// The reference SDK's client launching `mcp bridge CONNECTION` with trace logging;
    /// its report (results, errors, the bridge's stderr).
    fn ai_client(&mut self, connection: &str, extra: &[&str]) -> serde_json::Value {
        let mut command = Command::new("node");
        command.arg(repo_root().join("tests/mcp/client.mjs")).args(extra).arg("--");
        command.args([env!("CARGO_BIN_EXE_grantkeeper"), "mcp", "bridge", connection]);
        for (name, value) in self.cli.command(&[]).get_envs() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        command.env("GRANTKEEPER_LOG", "trace").env("TMPDIR", self.temp.path());
        let output = command.stdin(Stdio::null()).output().unwrap();
        self.printed.push((format!("the AI client of `mcp bridge {connection}`"), output.clone()));
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {output:?}"))
    }

    /// Where a secret must not be: everything printed (but `token`'s stdout) and every
    /// file in the data and temp directories.
    fn places(&self) -> Vec<(String, Vec<u8>)> {
        let mut places: Vec<(String, Vec<u8>)> = Vec::new();
        for (args, output) in &self.printed {
            if !args.starts_with("token ") {
                places.push((format!("stdout of `{args}`"), output.stdout.clone()));
            }
            places.push((format!("stderr of `{args}`"), output.stderr.clone()));
        }
        files_below(self.cli.home.path(), &mut places);
        files_below(self.temp.path(), &mut places);
        places
    }
}

#[test]
fn no_secret_leaves_the_keychain() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = ProviderEmulator::start();
    let temp = tempfile::tempdir().unwrap();
    let mut sweep = Sweep { cli: Cli::new(BrowserMode::Consent), temp, printed: Vec::new() };

    for (provider, integration) in [("google", "gmail"), ("github-app", "github-app")] {
        connect_refresh_and_break_token_answers(&mut sweep, &runtime, &emulator, provider, integration);
    }
    ok(&sweep.run(&["status", "--json"], None));
    ok(&sweep.run(&["list", "--json"], None));
    ok(&sweep.run(&["activity", "--json"], None));
    ok(&sweep.run(&["token", "google", "--json"], None));
    ok(&sweep.run(&["exec", "google", "--", "true"], None));

    // API keys: a good one kept, a rejected one refused.
    let base = emulator.service_url("openai");
    let add_key = ["keys", "add", "openai", "--key-stdin", "--base-url", &base];
    ok(&sweep.run(&add_key, Some("sk-canary-sweep-good\n")));
    assert!(!sweep.run(&add_key, Some("sk-canary-sweep-bad\n")).status.success());
    ok(&sweep.run(&["test", "OpenAI"], None));

    // The provider withdraws a grant: Reauthorize, with the provider's words.
    runtime.block_on(emulator.revoke("github-app", "ada"));
    assert_eq!(sweep.run(&["refresh", "github-app"], None).status.code(), Some(3));

    // An MCP server by URL, used by an AI client through the bridge. The tokens the
    // bridge's refresh replaces are read from the keychain before it runs.
    let server = McpGuarded::start();
    ok(&sweep.run(&["connect", "--url", &server.url, "--name", "mcp"], None));
    let mut secrets = runtime.block_on(secrets_seen(&[], &sweep.cli.service, &emulator));
    through_the_bridge(&mut sweep, &runtime, &server);

    // Every secret that existed. The keychain's values are read before removal.
    let given = [EMULATED_CLIENT_SECRET, "sk-canary-sweep-good", "sk-canary-sweep-bad"];
    secrets.extend(runtime.block_on(secrets_seen(&given, &sweep.cli.service, &emulator)));
    secrets.sort();
    secrets.dedup();
    ok(&sweep.run(&["remove", "google"], None));
    ok(&sweep.run(&["remove", "OpenAI"], None));

    assert!(secrets.len() >= 10, "the sweep found the secrets it looks for: {}", secrets.len());
    assert_nowhere_but_in_token_s_stdout(&sweep, &secrets);
}

/// An AI client's sessions through the bridge: tools called; the access token refused
/// (one refresh, with the new token bound to the URL); a tool needing a scope the grant
/// lacks (Needs more access); the grant revoked (Reauthorize, exit 3).
fn through_the_bridge(sweep: &mut Sweep, runtime: &tokio::runtime::Runtime, server: &McpGuarded) {
    let called = sweep.ai_client("mcp", &["--calls", "2"]);
    assert_eq!(called["results"], serde_json::json!(["Hello, Ada!", "Hello, Ada!"]), "{called}");
    runtime.block_on(server.expire_access());
    let more = sweep.ai_client("mcp", &["--tool", "admin_only"]);
    assert_eq!(more["results"][0], "Hello, Ada!", "{more}");
    assert!(more.to_string().contains("mcp:admin"), "the step-up names the scope: {more}");
    let stats = runtime.block_on(server.stats());
    assert_eq!((stats["token_refresh"].as_u64(), stats["mcp_403"].as_u64()), (Some(1), Some(1)), "{stats}");
    runtime.block_on(server.revoke_all());
    assert_eq!(sweep.ai_client("mcp", &[])["child_exit"], 3);
}

/// Points `provider` at the emulator, connects `integration` and refreshes it, then
/// breaks the token endpoint's answers: each a clean error, nothing kept.
fn connect_refresh_and_break_token_answers(
    sweep: &mut Sweep,
    runtime: &tokio::runtime::Runtime,
    emulator: &ProviderEmulator,
    provider: &str,
    integration: &str,
) {
    ok(&sweep.run(&strs(&use_emulator(emulator, provider)), Some(EMULATED_CLIENT_SECRET)));
    ok(&sweep.run(&["connect", integration, "--name", provider, "--json"], None));
    ok(&sweep.run(&["refresh", provider, "--json"], None));
    if provider == "github-app" {
        // Its check is the identity endpoint; Gmail's is Google's own API.
        ok(&sweep.run(&["test", provider], None));
    }
    // An unreadable answer may have cost a rotating refresh token (GitHub App's), which
    // asks for a reconnect; those answers go to Google, whose refresh tokens stay valid.
    let breaks: &[&str] = match provider {
        "google" => &["truncated", "html", "empty_access_token", "server_error"],
        _ => &["server_error"],
    };
    for &how in breaks {
        runtime.block_on(emulator.break_next_token_answer(how));
        assert!(!sweep.run(&["refresh", provider], None).status.success(), "{how}");
    }
}

fn assert_nowhere_but_in_token_s_stdout(sweep: &Sweep, secrets: &[String]) {
    // The one place a token belongs outside the keychain proves the sweep knows it.
    let (_, token_output) = sweep.printed.iter().find(|(args, _)| args.starts_with("token ")).unwrap();
    assert!(
        secrets.iter().any(|s| token_output.stdout.windows(s.len()).any(|w| w == s.as_bytes())),
        "the access token `token` printed is among the secrets searched for"
    );

    let places = sweep.places();
    let logged: usize = sweep.printed.iter().map(|(_, o)| o.stderr.len()).sum();
    assert!(logged > 10_000, "trace logging ran: {logged} bytes");
    for secret in secrets {
        for (place, bytes) in &places {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret ({}…) is in {place}",
                &secret[..6]
            );
        }
    }
}
