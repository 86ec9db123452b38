//! `connect --device` (RFC 8628) against the real OpenID provider dressed as a GitLab:
//! the CLI shows a page and a code, the person approves on "another device" (the
//! stand-in browser), and the connection appears; declining ends it cleanly.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command};

use common::{ok, text, Cli};
use grantkeeper_test_support::{
    repo_root, BrowserMode, OidcProvider, ProviderEmulator, EMULATED_CLIENT_ID, EMULATED_CLIENT_SECRET,
};

/// Runs `grantkeeper ARGS`, waits for the page and code it prints, lets the stand-in
/// browser act on that page as `mode`, and returns the finished command's output with
/// the page it showed.
fn sign_in_by_code(cli: &Cli, args: &[&str], mode: &str) -> (std::process::Output, String) {
    let (child, mut stderr) = start(cli, args);
    let mut shown = String::new();
    let page = read_stderr_until(&mut stderr, &mut shown, "sign-in page", |line| {
        line.trim().strip_prefix("http").map(|url| format!("http{url}"))
    });
    assert!(shown.contains("enter the code"), "{shown}");
    let browser = Command::new("node")
        .arg(repo_root().join("tests/oidc/browser.mjs"))
        .arg(&page)
        .env("GRANTKEEPER_TEST_BROWSER_MODE", mode)
        .env("GRANTKEEPER_TEST_LOGIN", "grace")
        .output()
        .unwrap();
    assert!(browser.status.success(), "{}", text(&browser.stderr));
    let mut output = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    output.stderr = format!("{shown}{rest}").into_bytes();
    (output, page)
}

/// Starts `grantkeeper ARGS`, with its stderr to read as it goes.
fn start(cli: &Cli, args: &[&str]) -> (Child, BufReader<ChildStderr>) {
    let mut child = cli.piped(args).spawn().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    (child, stderr)
}

/// Reads `stderr` line by line, adding each line to `shown`, until `find` picks
/// something out of one; fails when the command ends first.
fn read_stderr_until<T>(
    stderr: &mut impl BufRead,
    shown: &mut String,
    what: &str,
    find: impl Fn(&str) -> Option<T>,
) -> T {
    loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no {what} shown: {shown}");
        shown.push_str(&line);
        if let Some(found) = find(&line) {
            return found;
        }
    }
}

#[test]
fn connect_by_code_on_another_device() {
    let op = OidcProvider::start_with(&[("OIDC_PROFILE", "gitlab")]);
    // A browser that fails the test if anything opens it: the device flow opens nothing.
    let cli = Cli::new(BrowserMode::Ignore).with_browser("false");
    cli.set_up_gitlab(&op.issuer);

    let (output, page) =
        sign_in_by_code(&cli, &["connect", "gitlab-git", "--device", "--name", "Git", "--json"], "consent");
    let connection: serde_json::Value = serde_json::from_str(&ok(&output)).unwrap();
    assert_eq!(
        (connection["status"].as_str(), connection["account"].as_str()),
        (Some("active"), Some("grace"))
    );
    assert!(page.starts_with(&format!("{}/oauth/device", op.issuer)), "{page}");
    assert!(text(&output.stderr).contains(&page));
    assert!(ok(&cli.run(&["test", "Git"])).contains("answered for grace"));
    let stats = tokio::runtime::Runtime::new().unwrap().block_on(op.stats());
    assert!(
        stats.token_requests.get("urn:ietf:params:oauth:grant-type:device_code").copied().unwrap_or(0) >= 1
    );
    assert_eq!(stats.token_requests.get("authorization_code"), None, "no code flow ran");

    // Reconnect by code keeps the connection's id.
    let (output, _) = sign_in_by_code(&cli, &["reconnect", "Git", "--device", "--json"], "consent");
    let again: serde_json::Value = serde_json::from_str(&ok(&output)).unwrap();
    assert_eq!(again["id"], connection["id"]);

    // Declined on the other device: a clear message, nothing stored.
    let (output, _) = sign_in_by_code(&cli, &["connect", "gitlab", "--device", "--name", "API"], "deny");
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("declined"), "{}", text(&output.stderr));
    let listed: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn a_provider_without_sign_in_by_code_says_what_to_do() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Ignore).with_browser("false");
    // Added by its endpoints, not by discovery: nothing says where to sign in by code.
    let (authorize, token) = (format!("{}/auth", op.issuer), format!("{}/token", op.issuer));
    ok(&cli.run(&[
        "providers",
        "add",
        "--name",
        "Local OP",
        "--authorize-url",
        &authorize,
        "--token-url",
        &token,
        "--client-id",
        "grantkeeper-test",
    ]));
    let refused = cli.run(&["connect", "Local OP", "--device"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = text(&refused.stderr);
    assert!(message.contains("has no sign-in by code") && message.contains("--no-browser"), "{message}");
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");
}

/// Any OpenID provider whose discovery document names a device authorization
/// endpoint offers sign-in by code, not only the catalog's, with its ID token checked.
#[test]
fn a_custom_provider_found_by_discovery_signs_in_by_code() {
    let op = OidcProvider::start();
    let cli = Cli::new(BrowserMode::Ignore).with_browser("false");
    cli.add_public_provider(&op.issuer);

    // Its ID token is checked too (no nonce: RFC 8628 has none to send): a broken
    // signature ends the sign-in and nothing is stored.
    tokio::runtime::Runtime::new().unwrap().block_on(op.fault_next_id_token("signature"));
    let (refused, _) = sign_in_by_code(&cli, &["connect", "Local OP", "--device"], "consent");
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(message.contains("ID token was refused: Signature verification failed"), "{message}");
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");

    let (output, page) = sign_in_by_code(&cli, &["connect", "Local OP", "--device", "--json"], "consent");
    let connection: serde_json::Value = serde_json::from_str(&ok(&output)).unwrap();
    assert_eq!(connection["status"], "active");
    assert_eq!(connection["account"], "grace@example.test");
    assert!(page.starts_with(&format!("{}/device", op.issuer)), "{page}");
}

/// GitHub's device flow as GitHub runs it, on a GitHub Enterprise Server address: the
/// code and page come form-encoded, polls are answered `slow_down` then
/// `authorization_pending` with HTTP 200, and approval gives the token.
#[test]
fn github_enterprise_by_code_with_github_s_polling_answers() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Ignore).with_browser("false");
    let site = emulator.root_url();
    ok(&cli.run_with_stdin(
        &[
            "providers",
            "set",
            "github",
            "--client-id",
            EMULATED_CLIENT_ID,
            "--client-secret-stdin",
            "--base-url",
            &site,
        ],
        EMULATED_CLIENT_SECRET,
    ));
    let (child, mut stderr) = start(&cli, &["connect", "github", "--device", "--name", "GHE", "--json"]);
    let mut shown = String::new();
    let code = read_stderr_until(&mut stderr, &mut shown, "code", |line| {
        let (_, code) = line.split_once("enter the code ")?;
        Some(code.trim_end().trim_end_matches(':').to_owned())
    });
    let page = read_stderr_until(&mut stderr, &mut shown, "page", |line| {
        line.contains("/login/device").then(|| line.to_owned())
    });
    assert_eq!(page.trim(), format!("{site}/login/device"));
    let polls = || {
        runtime
            .block_on(emulator.log())
            .into_iter()
            .filter(|r| r["path"] == "/login/oauth/access_token")
            .count()
    };
    // Approve only after two polls: the first is told to slow down, the second to wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while polls() < 2 {
        assert!(std::time::Instant::now() < deadline, "the CLI stopped polling");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    runtime.block_on(emulator.approve_device(&code));
    let connection: serde_json::Value =
        serde_json::from_str(&ok(&child.wait_with_output().unwrap())).unwrap();
    assert_eq!(
        (connection["status"].as_str(), connection["account"].as_str()),
        (Some("active"), Some("ada"))
    );
    assert_eq!(polls(), 3, "slow_down, authorization_pending, then the token");
}

/// A code nobody approves runs out: the person is told the code expired and how long it
/// lasted, not that the sign-in took 15 minutes. A provider asking for no wait at all
/// between polls is polled once a second, the first poll after that wait too. A token
/// endpoint that fails while the code runs out is what the person is told (exit 5).
#[test]
fn a_code_that_runs_out_says_so_and_polls_at_a_sane_pace() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = ProviderEmulator::start();
    let cli = Cli::new(BrowserMode::Ignore).with_browser("false");
    let set_up = ["providers", "set", "github", "--client-id", EMULATED_CLIENT_ID, "--client-secret-stdin"];
    ok(&cli.run_with_stdin(
        &[&set_up[..], &["--base-url", &emulator.root_url()]].concat(),
        EMULATED_CLIENT_SECRET,
    ));
    runtime.block_on(emulator.device_answer(4, 0));
    let polls = || {
        let log = runtime.block_on(emulator.log());
        log.into_iter().filter(|r| r["path"] == "/login/oauth/access_token").count()
    };

    let expired = cli.run(&["connect", "github", "--device"]);
    assert_eq!(expired.status.code(), Some(1), "{}", text(&expired.stderr));
    let said = text(&expired.stderr);
    assert!(
        said.contains("The code expired before the sign-in was approved (it lasted 4 seconds)"),
        "{said}"
    );
    let polled = polls();
    assert!((2..=6).contains(&polled), "{polled} polls in 4 s");

    runtime.block_on(emulator.outage(true));
    let unreachable = cli.run(&["connect", "github", "--device"]);
    assert_eq!(unreachable.status.code(), Some(5), "{}", text(&unreachable.stderr));
    assert!(text(&unreachable.stderr).contains("Could not reach"), "{}", text(&unreachable.stderr));
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");
}
