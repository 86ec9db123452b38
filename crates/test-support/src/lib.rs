//! The real parts for Grantkeeper's tests: the OpenID provider (`tests/oidc`, npm
//! `oidc-provider`) on an ephemeral loopback port, the stand-in browser command, and
//! independent reads of the Secret Service through `secret-tool`, and the desktop's
//! tray host and notification server.

mod forward;
pub mod mcp;
mod notifications;
mod secret_service;
mod sweep;
mod tray;

pub use forward::forward;
pub use notifications::{NotificationServer, ShownNotification};
pub use secret_service::{lock_login_collection, restart_secret_service};
pub use sweep::secrets_seen;
pub use tray::{MenuEntry, TrayHost};

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// Tests that touch the keychain must run inside the private session that
/// `tests/support/session.sh` sets up (its own D-Bus and an unlocked gnome-keyring).
pub fn require_session() {
    assert_eq!(
        std::env::var("GRANTKEEPER_TEST_SESSION").as_deref(),
        Ok("1"),
        "run these tests through tests/support/session.sh (the README's test command does)"
    );
}

/// Sign-ins to providers with a fixed callback port take turns within a test binary:
/// its tests run in parallel, one port serves one sign-in at a time, and a second
/// sign-in is refused once the first has held the port longer than the listener waits
/// (a few seconds, easily reached on a loaded machine). Hold the guard until the
/// sign-in has ended.
pub async fn fixed_port_sign_in() -> tokio::sync::MutexGuard<'static, ()> {
    FIXED_PORT_SIGN_INS.lock().await
}

/// The same, for a test that is not async (it runs `grantkeeper connect`).
pub fn fixed_port_sign_in_blocking() -> tokio::sync::MutexGuard<'static, ()> {
    FIXED_PORT_SIGN_INS.blocking_lock()
}

static FIXED_PORT_SIGN_INS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A keychain service name no other test uses.
pub fn unique_keychain_service() -> String {
    format!("grantkeeper-test-{}", uuid::Uuid::new_v4().simple())
}

pub struct OidcProvider {
    pub issuer: String,
    child: Child,
}

#[derive(Deserialize)]
struct Ready {
    issuer: String,
}

#[derive(Debug, Deserialize)]
pub struct Stats {
    pub token_requests: std::collections::HashMap<String, u64>,
    pub userinfo_requests: u64,
    pub revocation_requests: u64,
    /// Signing keys (JWKS) documents served.
    pub jwks_requests: u64,
    /// Git requests over HTTP (OIDC_PROFILE=gitlab with GITLAB_GIT_ROOT) let in and refused.
    pub git_authorized: u64,
    pub git_refused: u64,
    /// Grants each account holds that have not been revoked, by login.
    pub grants: std::collections::HashMap<String, u64>,
}

impl OidcProvider {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let (child, ready): (_, Ready) = start_node("the OpenID provider", "tests/oidc/server.mjs", &[], env);
        OidcProvider { issuer: ready.issuer, child }
    }

    pub async fn stats(&self) -> Stats {
        reqwest::get(format!("{}/test/stats", self.issuer)).await.unwrap().json().await.unwrap()
    }

    /// From now on the person grants everything asked for except `scopes`.
    pub async fn withhold(&self, scopes: &[&str]) {
        reqwest::Client::new()
            .post(format!("{}/test/withhold?scopes={}", self.issuer, scopes.join("%20")))
            .send()
            .await
            .unwrap();
    }

    /// The next sign-in's ID token is faulty: `nonce` (it carries another sign-in's
    /// nonce, validly signed), `signature` (its signature is broken) or `sub` (validly
    /// signed, it names another account than the one signed in).
    pub async fn fault_next_id_token(&self, fault: &str) {
        reqwest::Client::new()
            .post(format!("{}/test/id-token?fault={fault}", self.issuer))
            .send()
            .await
            .unwrap();
    }

    /// The next signing keys (JWKS) answer lists no keys, like one fetched before the key
    /// that signs now was published.
    pub async fn stale_next_jwks(&self) {
        reqwest::Client::new().post(format!("{}/test/stale-jwks", self.issuer)).send().await.unwrap();
    }

    pub async fn revoke_grants(&self, login: &str) -> u64 {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/test/revoke-grants?sub={login}", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["revoked"].as_u64().unwrap_or(0)
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `node SCRIPT ARGS` (relative to the repo root), `what` for messages, and
/// returns it with the first line it printed (its address, in JSON) read as `R`.
pub(crate) fn start_node<R: DeserializeOwned>(
    what: &str,
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Child, R) {
    let packages =
        std::path::Path::new(script).parent().map(|dir| dir.display().to_string()).unwrap_or_default();
    let mut child = Command::new("node")
        .arg(repo_root().join(script))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start node {script} (run `npm ci --prefix {packages}` first): {e}"));
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).expect("node output");
    let ready = serde_json::from_str(&first_line)
        .unwrap_or_else(|e| panic!("{what} did not start ({e}): {first_line:?}"));
    (child, ready)
}

/// The client registration every emulated provider knows.
pub const EMULATED_CLIENT_ID: &str = "emulated-client";
pub const EMULATED_CLIENT_SECRET: &str = "canary-emulated-secret-5d1e";

/// `tests/emulators/providers.mjs`: local emulators of real providers' OAuth
/// endpoints (Google, Microsoft, GitHub, Slack, Notion, ...), written from their docs.
pub struct ProviderEmulator {
    pub port: u16,
    child: Child,
}

#[derive(Deserialize)]
struct EmulatorReady {
    port: u16,
}

impl ProviderEmulator {
    pub fn start() -> Self {
        let (child, ready): (_, EmulatorReady) =
            start_node("the provider emulator", "tests/emulators/providers.mjs", &[], &[]);
        ProviderEmulator { port: ready.port, child }
    }

    /// `endpoint` is authorize, token, identity, revoke or (Google, Microsoft) jwks.
    pub fn url(&self, provider: &str, endpoint: &str) -> String {
        format!("http://127.0.0.1:{}/{provider}/{endpoint}", self.port)
    }

    /// Every endpoint of `provider` that the engine calls, as provider-app fields
    /// (`authorize_url`, ...) with this emulator's URLs. One list for every test and
    /// bench, so none leaves an endpoint at the real provider.
    pub fn endpoints(&self, provider: &str) -> Vec<(&'static str, String)> {
        [
            ("authorize_url", "authorize"),
            ("token_url", "token"),
            ("userinfo_url", "identity"),
            ("revocation_url", "revoke"),
            ("jwks_url", "jwks"),
        ]
        .into_iter()
        .map(|(field, endpoint)| (field, self.url(provider, endpoint)))
        .collect()
    }

    /// Provider-app settings as the window sends them: the emulated client, with or
    /// without its secret, and every endpoint at this emulator.
    pub fn provider_app(&self, provider: &str, with_secret: bool) -> serde_json::Value {
        let mut app: serde_json::Map<String, serde_json::Value> =
            self.endpoints(provider).into_iter().map(|(field, url)| (field.to_owned(), url.into())).collect();
        app.insert("client_id".into(), EMULATED_CLIENT_ID.into());
        if with_secret {
            app.insert("client_secret".into(), EMULATED_CLIENT_SECRET.into());
        }
        app.into()
    }

    /// The base URL of an emulated API-key service (openai, anthropic, sendgrid, stripe, twilio).
    pub fn service_url(&self, service: &str) -> String {
        format!("http://127.0.0.1:{}/{service}", self.port)
    }

    /// The service no longer accepts `key` (deleted in its dashboard).
    pub async fn reject_key(&self, key: &str) {
        self.control(&format!("/test/reject-key?key={key}")).await;
    }

    /// The next token-endpoint answer is broken: html, truncated, empty_access_token,
    /// newline_token, huge, server_error, rate_limited, redirect, dpop (a
    /// sender-constrained token), interaction_required (multi-factor authentication now
    /// needed), echo_grant (a refusal quoting the refresh token and client secret) or
    /// escapes (terminal escape sequences in its error).
    pub async fn break_next_token_answer(&self, how: &str) {
        self.control(&format!("/test/break-token?how={how}")).await;
    }

    /// The next code exchange answers without a refresh token.
    pub async fn omit_next_refresh_token(&self) {
        self.control("/test/omit-refresh").await;
    }

    /// The next token request is handled `ms` later (and still handled if the client
    /// has gone by then).
    pub async fn delay_next_token_request(&self, ms: u64) {
        self.control(&format!("/test/delay-token?ms={ms}")).await;
    }

    /// From now on, revocations of tokens sent with the hint `hint` (`refresh_token`,
    /// `access_token`) are refused as a server that cannot revoke that kind refuses them.
    pub async fn unrevocable(&self, hint: &str) {
        self.control(&format!("/test/unrevocable?hint={hint}")).await;
    }

    /// The next identity (userinfo) request, or API-key check, is handled `ms` later.
    pub async fn delay_next_identity_request(&self, ms: u64) {
        self.control(&format!("/test/delay-identity?ms={ms}")).await;
    }

    /// Token lifetimes of the next code exchanges, in seconds (refreshes keep the
    /// provider's usual lifetime).
    pub async fn set_lifetimes(&self, min: u64, max: u64) {
        self.control(&format!("/test/lifetimes?min={min}&max={max}")).await;
    }

    /// Starts (`true`) or ends an outage: token requests get their connection dropped.
    /// Device sign-ins from now on last `expires_in` seconds, ask for `interval` seconds
    /// between polls, and are never told to slow down.
    pub async fn device_answer(&self, expires_in: u64, interval: u64) {
        self.control(&format!("/test/device-answer?expires_in={expires_in}&interval={interval}&slow_down=0"))
            .await;
    }

    pub async fn outage(&self, on: bool) {
        self.control(&format!("/test/outage?on={}", u8::from(on))).await;
    }

    /// From now on the identity endpoints, which checks use, answer HTTP 503 (`true`).
    pub async fn identity_down(&self, on: bool) {
        self.control(&format!("/test/identity-down?on={}", u8::from(on))).await;
    }

    /// From now on the keys that sign ID tokens cannot be fetched (`true`): HTTP 503.
    pub async fn jwks_down(&self, on: bool) {
        self.control(&format!("/test/jwks-down?on={}", u8::from(on))).await;
    }

    /// From now on access tokens are over 4 KB long (`true`), as Microsoft's are.
    pub async fn long_tokens(&self, on: bool) {
        self.control(&format!("/test/long-tokens?on={}", u8::from(on))).await;
    }

    /// The next ID token (Google, Microsoft) is faulty: `nonce` (another sign-in's),
    /// `signature` (signed with another key under the published key's id), `sub` (another
    /// account's), `issuer`, `audience` (another client's) or `expired`.
    pub async fn fault_next_id_token(&self, fault: &str) {
        self.control(&format!("/test/id-token?fault={fault}")).await;
    }

    /// The person approves the device sign-in showing `user_code`.
    pub async fn approve_device(&self, user_code: &str) {
        let url = format!("http://127.0.0.1:{}/test/approve-device?user_code={user_code}", self.port);
        assert!(
            reqwest::get(url).await.unwrap().status().is_success(),
            "no device sign-in shows {user_code}"
        );
    }

    /// Sends the emulator's test control `path` (with its query) and waits for its answer.
    async fn control(&self, path: &str) {
        reqwest::get(format!("{}{path}", self.root_url())).await.unwrap();
    }

    /// The emulator's root, where it serves GitHub Enterprise Server's paths.
    pub fn root_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Who signs in at the next authorize request.
    pub async fn sign_in_as(&self, user: &str) {
        self.control(&format!("/test/login?user={user}")).await;
    }

    /// The person withdraws consent at the provider.
    pub async fn revoke(&self, provider: &str, user: &str) {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/test/revoke?provider={provider}&user={user}", self.port))
            .send()
            .await
            .unwrap();
    }

    /// `provider` issues expiring access tokens with single-use refresh tokens from now
    /// on, as a GitHub OAuth App does with "expiring user tokens" turned on.
    pub async fn expiring_tokens(&self, provider: &str) {
        self.control(&format!("/test/expiring-tokens?provider={provider}")).await;
    }

    /// Whether `user`'s grant at `provider` has been revoked (None: there is none).
    pub async fn grant_revoked(&self, provider: &str, user: &str) -> Option<bool> {
        let url = format!("http://127.0.0.1:{}/test/grant?provider={provider}&user={user}", self.port);
        let answer = reqwest::get(url).await.unwrap();
        if answer.status() == 404 {
            return None;
        }
        answer.json::<serde_json::Value>().await.unwrap()["revoked"].as_bool()
    }

    /// The provider's answer to `refresh_token` from the emulated client (HTTP Basic),
    /// sent past Grantkeeper, as a process it lost track of would have.
    pub async fn refresh_directly(&self, provider: &str, refresh_token: &str) -> serde_json::Value {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        let request = reqwest::Client::new().post(self.url(provider, "token")).form(&form);
        let answer =
            request.basic_auth(EMULATED_CLIENT_ID, Some(EMULATED_CLIENT_SECRET)).send().await.unwrap();
        answer.json().await.unwrap()
    }

    /// Every request the emulator saw: provider, method, path, query, headers, body.
    pub async fn log(&self) -> Vec<serde_json::Value> {
        reqwest::get(format!("http://127.0.0.1:{}/test/log", self.port)).await.unwrap().json().await.unwrap()
    }
}

impl Drop for ProviderEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the stand-in browser behaves at the provider's sign-in page.
#[derive(Debug, Clone, Copy)]
pub enum BrowserMode {
    Consent,
    Deny,
    /// Never comes back, like a person who walked away.
    Ignore,
    /// Consents, then delivers the callback without its `iss` (RFC 9207)...
    DropIss,
    /// ...or with a second `iss`, as a mix-up attacker would.
    RepeatIss,
    /// A browser on another device: consents, then prints the callback's address on
    /// stdout (what its address bar shows) instead of reaching this machine.
    Elsewhere,
}

/// A command line for `GRANTKEEPER_BROWSER` that runs the stand-in browser.
pub fn browser_command(mode: BrowserMode, login: &str) -> String {
    let mode = match mode {
        BrowserMode::Consent => "consent",
        BrowserMode::Deny => "deny",
        BrowserMode::Ignore => "ignore",
        BrowserMode::DropIss => "drop-iss",
        BrowserMode::RepeatIss => "repeat-iss",
        BrowserMode::Elsewhere => "elsewhere",
    };
    let script = repo_root().join("tests/oidc/browser.mjs");
    format!(
        "env GRANTKEEPER_TEST_BROWSER_MODE={mode} GRANTKEEPER_TEST_LOGIN={login} node {}",
        script.display()
    )
}

/// Approves `link` (a sign-in's authorize URL) as `login` in a browser on another
/// device, which cannot come back to this machine: the address it ends on, to paste.
pub fn approve_elsewhere(link: &str, login: &str) -> String {
    let browser = browser_command(BrowserMode::Elsewhere, login);
    let shown =
        Command::new("sh").arg("-c").arg(format!("{browser} \"$0\"")).arg(link.trim()).output().unwrap();
    assert!(shown.status.success(), "{shown:?}");
    let address = String::from_utf8(shown.stdout).unwrap().trim().to_owned();
    assert!(address.contains("/callback?code="), "{address}");
    address
}

/// Reads a keychain item through `secret-tool`, independently of Grantkeeper.
pub fn secret_tool_lookup(service: &str, key: &str) -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", key])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    (output.status.success() && !output.stdout.is_empty()).then(|| String::from_utf8(output.stdout).unwrap())
}

/// Writes a keychain item through `secret-tool`, as another process would.
pub fn secret_tool_store(service: &str, key: &str, value: impl AsRef<[u8]>) {
    use std::io::Write;
    let mut child = Command::new("secret-tool")
        .args(["store", "--label", key, "service", service, "username", key])
        .stdin(Stdio::piped())
        .spawn()
        .expect("secret-tool (libsecret-tools) is installed");
    child.stdin.take().unwrap().write_all(value.as_ref()).unwrap();
    assert!(child.wait().unwrap().success(), "secret-tool store failed");
}

/// The `username` attributes of every keychain item under `service`.
pub fn secret_tool_keys(service: &str) -> Vec<String> {
    let output = Command::new("secret-tool")
        .args(["search", "--all", "service", service])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("attribute.username = "))
        .map(str::to_owned)
        .collect()
}

/// Every byte Grantkeeper wrote to its data directory (database, WAL, journal).
pub fn data_dir_bytes(home: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(home).unwrap().flatten() {
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            all.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    all
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}
