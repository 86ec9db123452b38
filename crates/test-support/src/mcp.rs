//! The MCP servers of `tests/mcp/` (`npm ci --prefix tests/mcp`): the reference SDK's
//! example, the SDK's parts guarded by a real OpenID provider, and hostile ones.

use std::process::Child;

use serde::Deserialize;

use crate::start_node;

/// `tests/mcp/example.mjs`: the SDK's `simpleStreamableHttp` example with `--oauth`.
pub struct McpExample {
    /// `http://localhost:PORT/mcp`.
    pub url: String,
    /// Its demo authorization server's issuer, `http://localhost:AUTH/`.
    pub auth_issuer: String,
    child: Child,
}

#[derive(Deserialize)]
struct ExampleReady {
    url: String,
    auth_issuer: String,
}

impl McpExample {
    /// `strict`: the server takes only tokens issued for its own URL (`--oauth-strict`).
    pub fn start(strict: bool) -> Self {
        let args: &[&str] = if strict { &["--strict"] } else { &[] };
        let (child, ready): (_, ExampleReady) =
            start_node("the SDK's example server", "tests/mcp/example.mjs", args, &[]);
        McpExample { url: ready.url, auth_issuer: ready.auth_issuer, child }
    }
}

/// `tests/mcp/guarded.mjs`: an MCP server of the SDK's parts behind `oidc-provider`, with
/// refresh tokens, revocation, registration and resource indicators.
pub struct McpGuarded {
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// The authorization server's issuer.
    pub issuer: String,
    child: Child,
}

#[derive(Deserialize)]
struct GuardedReady {
    url: String,
    issuer: String,
}

impl McpGuarded {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// With environment variables, e.g. `MCP_ACCESS_TOKEN_TTL`.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let (child, ready): (_, GuardedReady) =
            start_node("the guarded MCP server", "tests/mcp/guarded.mjs", &[], env);
        McpGuarded { url: ready.url, issuer: ready.issuer, child }
    }

    async fn get(&self, path: &str) -> serde_json::Value {
        reqwest::get(format!("{}{path}", self.issuer)).await.unwrap().json().await.unwrap()
    }

    /// Registers a client as any RFC 7591 client would (an organisation's app, say);
    /// the server's answer.
    pub async fn register(&self, metadata: serde_json::Value) -> serde_json::Value {
        let sent = reqwest::Client::new().post(format!("{}/reg", self.issuer)).json(&metadata).send();
        sent.await.unwrap().json().await.unwrap()
    }

    /// Counts: registrations, authorizations, token_code, token_refresh, revocations,
    /// mcp_requests, mcp_401, mcp_403.
    pub async fn stats(&self) -> serde_json::Value {
        self.get("/test/stats").await
    }

    /// Every grant ends, as when the person revokes the app at the server.
    pub async fn revoke_all(&self) {
        self.get("/test/revoke-all").await;
    }

    /// The MCP server refuses every access token issued so far; refresh tokens still work.
    pub async fn expire_access(&self) {
        self.get("/test/expire-access").await;
    }

    /// Every dynamic registration is deleted (RFC 7592): the server no longer knows it.
    pub async fn forget_clients(&self) {
        self.get("/test/forget-clients").await;
    }

    /// The MCP server refuses every token, even one just renewed (`true`), or works again.
    pub async fn refuse_every_token(&self, on: bool) {
        self.get(&format!("/test/refuse-every-token?on={}", u8::from(on))).await;
    }

    /// Registration answers `invalid_client_metadata` (`true`) or works again.
    pub async fn refuse_registration(&self, on: bool) {
        self.get(&format!("/test/refuse-registration?on={}", u8::from(on))).await;
    }
}

/// `tests/mcp/hostile.mjs`: one broken or hostile server per case.
pub struct McpHostile {
    pub base: String,
    child: Child,
}

#[derive(Deserialize)]
struct HostileReady {
    base: String,
}

impl McpHostile {
    pub fn start() -> Self {
        let (child, ready): (_, HostileReady) =
            start_node("the hostile MCP servers", "tests/mcp/hostile.mjs", &[], &[]);
        McpHostile { base: ready.base, child }
    }

    /// The resource URL of `case` (see `tests/mcp/README.md`).
    pub fn url(&self, case: &str) -> String {
        format!("{}/{case}/mcp", self.base)
    }

    /// The paths requested so far, in order.
    pub async fn requests(&self) -> Vec<String> {
        reqwest::get(format!("{}/test/requests", self.base)).await.unwrap().json().await.unwrap()
    }

    /// The `resource` parameters its authorization servers were sent, in order.
    pub async fn resources(&self) -> Vec<Option<String>> {
        reqwest::get(format!("{}/test/resources", self.base)).await.unwrap().json().await.unwrap()
    }
}

macro_rules! stopped_on_drop {
    ($($server:ty),*) => {$(
        impl Drop for $server {
            fn drop(&mut self) {
                // Closing its stdin lets the harness stop the servers it started (the
                // SDK's example runs in a process of its own); killed, it would leave them.
                drop(self.child.stdin.take());
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    )*};
}

stopped_on_drop!(McpExample, McpGuarded, McpHostile);
