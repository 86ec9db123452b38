//! The secret sweep on the window's side: run through the Tauri commands (mock runtime,
//! no webview) what a person does in the window, error paths included, and record
//! every reply, every error and every event the window would receive. Then gather
//! every secret that existed — the client secret and API keys given, the codes, PKCE
//! verifiers and tokens the provider saw, the tokens the keychain holds — and find
//! none of them in anything the window received.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::mock_app;
use grantkeeper_engine::oauth::Browser;
use grantkeeper_test_support::mcp::McpGuarded;
use grantkeeper_test_support::{
    browser_command, secrets_seen, BrowserMode, ProviderEmulator, EMULATED_CLIENT_SECRET,
};
use serde_json::{json, Value};
use tauri::test::MockRuntime;
use tauri::Listener;

/// The window's side of the IPC: what it sent and everything it got back.
struct Window {
    webview: tauri::WebviewWindow<MockRuntime>,
    received: Arc<Mutex<Vec<(String, String)>>>,
}

impl Window {
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let reply = common::invoke(&self.webview, cmd, args);
        let text = match &reply {
            Ok(value) | Err(value) => value.to_string(),
        };
        self.received.lock().unwrap().push((format!("reply to {cmd}"), text));
        reply
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args).unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// Waits for the event that ends a sign-in started by `connect` or `reconnect`.
    fn finish(&self, started: &Value) -> Value {
        let flow_id = started["flow_id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ended = self.received.lock().unwrap().iter().rev().find_map(|(place, text)| {
                let event: Value = serde_json::from_str(text).ok()?;
                (place == "engine-event" && event["flow_id"] == flow_id.as_str()).then_some(event)
            });
            if let Some(event) = ended {
                return event;
            }
            assert!(Instant::now() < deadline, "the sign-in {flow_id} never ended");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn nothing_the_window_receives_holds_a_secret() {
    let emulator = ProviderEmulator::start();
    let mock = mock_app(Browser::Commands(vec![browser_command(BrowserMode::Consent, "ada")]));
    let (app, service) = (&mock.app, &mock.service);
    let received = Arc::new(Mutex::new(Vec::new()));
    let events = received.clone();
    app.listen_any("engine-event", move |event| {
        events.lock().unwrap().push(("engine-event".to_owned(), event.payload().to_owned()));
    });
    // The mock runtime runs no event loop, so no setup: start what setup starts for events.
    grantkeeper_app::forward_engine_events(app.handle());
    let window = Window { webview: mock.webview.clone(), received };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (provider, integration) in [("google", "gmail"), ("github-app", "github-app")] {
        let app_input = emulator.provider_app(provider, true);
        window.ok("set_provider_app", json!({ "providerId": provider, "input": app_input }));
        let started =
            window.ok("connect", json!({ "integration": integration, "options": { "name": provider } }));
        let ended = window.finish(&started);
        assert_eq!(ended["kind"], "flow_completed", "{provider}: {ended}");
        window.ok("refresh_connection", json!({ "connectionId": provider }));
        if provider == "github-app" {
            // Its check is the identity endpoint; Gmail's is Google's own API.
            window.ok("test_connection", json!({ "connectionId": provider }));
        }
        // Broken answers from the token endpoint: each a typed error the window shows.
        // An unreadable answer may have cost a rotating refresh token (GitHub App's),
        // which asks for a reconnect; those answers go to Google, whose tokens stay valid.
        let breaks: &[&str] = match provider {
            "google" => &["truncated", "html", "empty_access_token", "server_error"],
            _ => &["server_error"],
        };
        for &how in breaks {
            runtime.block_on(emulator.break_next_token_answer(how));
            let refused = window.invoke("refresh_connection", json!({ "connectionId": provider }));
            assert!(refused.is_err_and(|e| e["code"].is_string()), "{provider}, {how}");
        }
    }

    // Reconnect; then one whose code exchange the provider botches ends as a failed flow.
    let again = window.ok("reconnect", json!({ "connectionId": "google" }));
    let reconnected = window.finish(&again);
    assert_eq!(reconnected["kind"], "flow_completed", "{reconnected}");
    runtime.block_on(emulator.break_next_token_answer("truncated"));
    let botched = window.ok("reconnect", json!({ "connectionId": "google" }));
    let failed = window.finish(&botched);
    assert_eq!(failed["kind"], "flow_failed", "{failed}");
    assert!(failed["error"]["message"].is_string());

    // API keys: a good one kept, a rejected one refused.
    let base = emulator.service_url("openai");
    let key = |value: &str| {
        json!({ "integration": "openai", "input": { "name": null, "fields": { "api_key": value },
            "base_url": base, "check": true, "replace": null } })
    };
    window.ok("add_api_key", key("sk-canary-ipc-good"));
    runtime.block_on(emulator.reject_key("sk-canary-ipc-bad"));
    assert!(window.invoke("add_api_key", key("sk-canary-ipc-bad")).is_err());
    window.ok("test_connection", json!({ "connectionId": "OpenAI" }));

    // The provider withdraws a grant: the refresh says Reauthorize, in the provider's words.
    runtime.block_on(emulator.revoke("github-app", "ada"));
    let withdrawn = window.invoke("refresh_connection", json!({ "connectionId": "github-app" })).unwrap_err();
    assert_eq!(withdrawn["code"], "needs_reauthorization", "{withdrawn}");

    // An MCP server by its URL: the plan, a dynamic registration (whose registration
    // token goes to the keychain), sign-in, a refresh with a rotating refresh token, and
    // the AI client's snippet.
    let mcp = McpGuarded::start();
    window.ok("plan_url", json!({ "url": mcp.url, "scopes": [] }));
    let options = json!({ "name": "mcp" });
    let started = window.ok("connect_url", json!({ "url": mcp.url, "options": options }));
    let ended = window.finish(&started);
    assert_eq!(ended["kind"], "flow_completed", "{ended}");
    window.ok("refresh_connection", json!({ "connectionId": "mcp" }));
    window.ok("ai_client_config", json!({ "connectionId": "mcp", "client": "vscode" }));

    window.ok("list_connections", json!({}));
    window.ok("list_providers", json!({}));
    window.ok("list_activity", json!({}));
    window.ok("connection_activity", json!({ "connectionId": "google" }));

    // Every secret that existed. The keychain's values are read before removal.
    let given = [EMULATED_CLIENT_SECRET, "sk-canary-ipc-good", "sk-canary-ipc-bad"];
    let secrets = runtime.block_on(secrets_seen(&given, service, &emulator));
    for connection in ["google", "github-app", "OpenAI", "mcp"] {
        window.ok("remove_connection", json!({ "connectionId": connection }));
    }

    assert!(secrets.len() >= 10, "the sweep found the secrets it looks for: {}", secrets.len());

    let received = window.received.lock().unwrap();
    let events = received.iter().filter(|(place, _)| place == "engine-event").count();
    assert!(events >= 10, "the window was told of the changes: {events} events");
    for secret in &secrets {
        for (place, text) in received.iter() {
            assert!(!text.contains(secret.as_str()), "a secret ({}…) is in the {place}", &secret[..6]);
        }
    }
}
