//! An AI client using a connection made by URL: the reference SDK's stdio client
//! launches `grantkeeper mcp bridge`, which forwards to an MCP server of the SDK's parts
//! guarded by a real OpenID provider (tests/mcp/guarded.mjs).

mod common;

use std::process::Command;

use common::{ok, text, Cli};
use grantkeeper_test_support::mcp::{McpExample, McpGuarded, McpHostile};
use grantkeeper_test_support::{repo_root, BrowserMode};

/// Runs the SDK's client against the bridge for `connection`; its one-line report.
fn client(cli: &Cli, connection: &str, extra: &[&str]) -> serde_json::Value {
    let output = Command::new("node")
        .arg(repo_root().join("tests/mcp/client.mjs"))
        .args(extra)
        .args(["--", env!("CARGO_BIN_EXE_grantkeeper"), "mcp", "bridge", connection])
        .env("GRANTKEEPER_HOME", cli.home.path())
        .env("GRANTKEEPER_KEYCHAIN_SERVICE", &cli.service)
        .output()
        .unwrap();
    serde_json::from_str(&text(&output.stdout)).unwrap_or_else(|e| panic!("{e}: {output:?}"))
}

#[test]
fn an_ai_client_uses_the_connection_through_the_bridge() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = McpGuarded::start();
    let cli = Cli::new(BrowserMode::Consent);
    ok(&cli.run(&["connect", "--url", &server.url, "--name", "Guarded"]));
    let listed: serde_json::Value = serde_json::from_str(&ok(&cli.run(&["list", "--json"]))).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();

    // Tools listed and called through the bridge, by the connection's id; a call too
    // large to pass on is answered with an error, and the calls after it go through.
    let first = client(&cli, &id, &["--calls", "2", "--oversize", "17000000"]);
    assert_eq!(first["error"], serde_json::Value::Null, "{first}");
    let too_large = first["oversize_error"].as_str().unwrap_or_default();
    assert!(too_large.contains("more than Grantkeeper passes on"), "{too_large}");
    assert!(first["tools"].as_array().unwrap().iter().any(|t| t == "greet"), "{first}");
    assert_eq!(first["results"], serde_json::json!(["Hello, Ada!", "Hello, Ada!"]));
    assert_eq!(first["child_exit"], 0, "{first}");

    // The server stops taking the token: the bridge refreshes once and goes on.
    runtime.block_on(server.expire_access());
    let after = client(&cli, &id, &[]);
    assert_eq!(after["results"], serde_json::json!(["Hello, Ada!"]), "{after}");
    assert_eq!(runtime.block_on(server.stats())["token_refresh"], 1);

    // A server that refuses even the renewed token: one refresh, no loop; the bridge
    // ends as for a revoked grant, and the connection says the person must sign in.
    runtime.block_on(server.refuse_every_token(true));
    let refused = client(&cli, &id, &[]);
    assert_eq!(refused["child_exit"], 3, "{refused}");
    assert_eq!(runtime.block_on(server.stats())["token_refresh"], 2);
    let status: serde_json::Value =
        serde_json::from_str(&text(&cli.run(&["list", "--json"]).stdout)).unwrap();
    assert_eq!(status[0]["status"], "reauthorize", "{status}");
    assert!(status[0]["status_reason"].as_str().unwrap().contains("renewed access token"), "{status}");
    runtime.block_on(server.refuse_every_token(false));
    ok(&cli.run(&["reconnect", "Guarded"]));

    // Revoked at the server: Reauthorize, exit 3, and the person is told what to do.
    runtime.block_on(server.revoke_all());
    let revoked = client(&cli, &id, &[]);
    assert_eq!(revoked["child_exit"], 3, "{revoked}");
    assert!(revoked["child_stderr"].as_str().unwrap().contains("reconnect"), "{revoked}");
    let status: serde_json::Value =
        serde_json::from_str(&text(&cli.run(&["list", "--json"]).stdout)).unwrap();
    assert_eq!(status[0]["status"], "reauthorize");

    // A snippet for a client names the bridge by id; removal leaves nothing.
    let snippet = ok(&cli.run(&["mcp", "config", "Guarded", "--client", "vscode"]));
    assert!(snippet.contains(&id) && snippet.contains("\"bridge\""), "{snippet}");
    ok(&cli.run(&["remove", "Guarded"]));
    assert_eq!(ok(&cli.run(&["list", "--json"])).trim(), "[]");
}

/// Three connections to one new URL made at once each register Grantkeeper there (their
/// redirect ports differ); the resource keeps one registration, and each connection
/// still refreshes and revokes as the client its tokens were issued to.
#[test]
fn connections_made_at_once_keep_the_registration_they_signed_in_with() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = McpGuarded::start();
    let cli = Cli::new(BrowserMode::Consent);
    ok(&cli.run(&["list"]));
    let connecting: Vec<_> = ["One", "Two", "Three"]
        .map(|name| cli.piped(&["connect", "--url", &server.url, "--name", name]).spawn().unwrap())
        .into_iter()
        .collect();
    for child in connecting {
        ok(&child.wait_with_output().unwrap());
    }
    assert!(runtime.block_on(server.stats())["registrations"].as_u64().unwrap() > 1, "they met");
    for name in ["One", "Two", "Three"] {
        let refreshed: serde_json::Value =
            serde_json::from_str(&ok(&cli.run(&["refresh", name, "--json"]))).unwrap();
        assert_eq!(refreshed["status"], "active", "{name}: {refreshed}");
    }
    assert_eq!(runtime.block_on(server.stats())["token_refresh"], 3);
    for name in ["One", "Two", "Three"] {
        let removed = cli.run(&["remove", name]);
        assert!(removed.status.success() && text(&removed.stderr).contains("revoked"), "{name}: {removed:?}");
    }
    // Each revokes its refresh token and its access token, as the client they went to.
    assert_eq!(runtime.block_on(server.stats())["revocations"], 6);
}

/// A server that accepts a request without answering it (202, which Streamable HTTP
/// does not allow for a request): the AI client gets an error for it, not a wait for ever.
#[test]
fn a_request_the_server_only_accepts_is_answered_with_an_error() {
    let hostile = McpHostile::start();
    let cli = Cli::new(BrowserMode::Consent);
    ok(&cli.run(&["connect", "--url", &hostile.url("accepts-silently"), "--name", "Silent"]));
    let initialize = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let output =
        common::output_with_stdin(cli.command(&["mcp", "bridge", "Silent"]), &format!("{initialize}\n"));
    let answer: serde_json::Value =
        serde_json::from_str(text(&output.stdout).lines().next().unwrap_or("null")).unwrap();
    assert_eq!(answer["id"], 0, "{output:?}");
    assert_eq!(answer["error"]["code"], -32000, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("without answering it"), "{answer}");
}

#[test]
fn a_distribution_gets_the_client_metadata_document_to_publish() {
    let cli = Cli::new(BrowserMode::Consent);
    let url = "https://example.org/grantkeeper/client.json";
    let document: serde_json::Value =
        serde_json::from_str(&ok(&cli.run(&["mcp", "client-metadata", url]))).unwrap();
    assert_eq!(document["client_id"], url);
    assert_eq!(document["redirect_uris"], serde_json::json!(["http://127.0.0.1/callback"]));
    assert_eq!(document["token_endpoint_auth_method"], "none");

    let plain = cli.run(&["mcp", "client-metadata", "http://example.org/client.json"]);
    assert_eq!(plain.status.code(), Some(1));
    assert!(text(&plain.stderr).contains("must use https"), "{plain:?}");
    assert!(plain.stdout.is_empty());
    // It is the client ID too: a path of its own, no query.
    for odd in ["https://example.org", "https://example.org/c.json?x=1"] {
        let refused = cli.run(&["mcp", "client-metadata", odd]);
        assert_eq!(refused.status.code(), Some(1), "{odd}");
        assert!(text(&refused.stderr).contains("a path of its own and no query"), "{refused:?}");
    }
}

#[test]
fn the_sdk_example_server_is_used_through_the_bridge() {
    // Strict: the SDK's example takes only tokens issued for its own URL (RFC 8707).
    let server = McpExample::start(true);
    let cli = Cli::new(BrowserMode::Consent);
    ok(&cli.run(&["connect", "--url", &server.url, "--name", "Example"]));
    let report = client(&cli, "Example", &[]);
    assert_eq!(report["error"], serde_json::Value::Null, "{report}");
    assert!(report["tools"].as_array().unwrap().iter().any(|t| t == "greet"), "{report}");
    assert!(report["results"][0].as_str().unwrap().contains("Ada"), "{report}");
    assert_eq!(report["child_exit"], 0, "{report}");
    ok(&cli.run(&["remove", "Example"]));
}
