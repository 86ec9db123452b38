//! The Tauri commands through the IPC layer (mock runtime, no webview): what the
//! window receives is metadata and `{code, message, field}` errors, never a secret.

mod common;

use common::{invoke, mock_app};
use grantkeeper_engine::oauth::Browser;
use grantkeeper_test_support::OidcProvider;
use serde_json::{json, Value};

#[test]
fn commands_return_metadata_and_typed_errors_only() {
    let op = OidcProvider::start();
    let mock = mock_app(Browser::None);
    let webview = &mock.webview;

    assert_eq!(invoke(webview, "list_connections", json!({})), Ok(json!([])));

    let refused = invoke(
        webview,
        "add_provider",
        json!({ "input": { "name": "Plain", "issuer": "http://sso.example.com", "authorize_url": null,
            "token_url": null, "client_id": "c", "client_secret": null, "scopes": [] } }),
    )
    .unwrap_err();
    assert_eq!(refused["code"], "invalid_input");
    assert_eq!(refused["field"], "issuer");
    assert!(refused["message"].as_str().unwrap().contains("https"));

    let secret = "canary-client-secret-7f3a";
    let added = invoke(
        webview,
        "add_provider",
        json!({ "input": { "name": "Local OP", "issuer": op.issuer, "authorize_url": null, "token_url": null,
            "client_id": "grantkeeper-confidential", "client_secret": secret, "scopes": ["openid", "email"] } }),
    )
    .unwrap();
    assert_eq!(added["client_secret_last4"], "7f3a");
    // Discovery's signing keys, which the window's form shows and may override.
    assert!(added["jwks_url"].as_str().is_some_and(|url| url.starts_with(&op.issuer)), "{added}");
    let listed = invoke(webview, "list_providers", json!({})).unwrap();
    assert_eq!(listed[0]["name"], "Local OP");
    for payload in [&added, &listed] {
        assert!(!payload.to_string().contains(secret), "the client secret crossed IPC");
    }

    let flow = invoke(webview, "connect", json!({ "integration": added["id"], "options": { "name": null } }))
        .unwrap();
    assert!(flow["authorize_url"].as_str().unwrap().starts_with(&op.issuer));
    let elsewhere = json!({ "flowId": flow["flow_id"], "address": "https://example.test/callback?code=c" });
    let refused = invoke(webview, "answer_flow", elsewhere).unwrap_err();
    assert_eq!(
        (refused["code"].as_str(), refused["field"].as_str()),
        (Some("invalid_input"), Some("address"))
    );
    assert_eq!(invoke(webview, "cancel_flow", json!({ "flowId": flow["flow_id"] })), Ok(Value::Null));

    // Connecting by URL: a URL that no protected resource metadata describes (the OP's
    // own user info endpoint asks for a token but names none) is refused by the URL field.
    let unusable =
        invoke(webview, "plan_url", json!({ "url": format!("{}/me", op.issuer), "scopes": [] })).unwrap_err();
    assert_eq!(
        (unusable["code"].as_str(), unusable["field"].as_str()),
        (Some("resource_unusable"), Some("url")),
        "{unusable}"
    );
    assert!(unusable["message"].as_str().unwrap().contains("metadata"), "{unusable}");
    let not_a_url =
        invoke(webview, "connect_url", json!({ "url": "not a url", "options": { "name": null } }))
            .unwrap_err();
    assert_eq!(not_a_url["field"], "url", "{not_a_url}");
    let no_connection =
        invoke(webview, "ai_client_config", json!({ "connectionId": "nope", "client": "claude-code" }))
            .unwrap_err();
    assert_eq!(no_connection["code"], "not_found", "{no_connection}");
    let no_client =
        invoke(webview, "ai_client_config", json!({ "connectionId": "nope", "client": "notepad" }))
            .unwrap_err();
    assert!(no_client.is_string(), "an unknown client is refused before the engine: {no_client}");

    let missing = invoke(webview, "remove_connection", json!({ "connectionId": "nope" })).unwrap_err();
    assert_eq!(missing["code"], "not_found");
    let no_activity = invoke(webview, "connection_activity", json!({ "connectionId": "nope" })).unwrap_err();
    assert_eq!(no_activity["code"], "not_found");

    // The catalog, and a provider app whose secret never comes back.
    let catalog = invoke(webview, "list_catalog", json!({})).unwrap();
    assert!(catalog.as_array().unwrap().iter().any(|i| i["id"] == "gmail" && i["provider_id"] == "google"));
    let google_secret = "canary-google-secret-3b1d";
    let google = invoke(
        webview,
        "set_provider_app",
        json!({ "providerId": "google", "input": { "client_id": "123.apps.googleusercontent.com",
            "client_secret": google_secret } }),
    )
    .unwrap();
    assert_eq!(google["client_secret_last4"], "3b1d");
    assert!(!google.to_string().contains(google_secret));
    let unknown_scope = invoke(
        webview,
        "connect",
        json!({ "integration": "gmail", "options": { "scopes": ["gmail.everything"] } }),
    )
    .unwrap_err();
    assert_eq!(
        (unknown_scope["code"].as_str(), unknown_scope["field"].as_str()),
        (Some("invalid_input"), Some("scopes"))
    );
    let key = invoke(
        webview,
        "add_api_key",
        json!({ "integration": "openai", "input": { "fields": { "api_key": "not-a-key" }, "check": false } }),
    )
    .unwrap_err();
    assert_eq!(key["field"], "api_key");
    assert!(!key.to_string().contains("not-a-key"), "the key is never echoed");
}
