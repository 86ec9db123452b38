//! What the IPC tests share: the app on Tauri's mock runtime with an engine of its own,
//! and a command sent as the window sends it.
#![allow(dead_code)] // each test file uses a different part

use std::sync::Arc;

use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::{Config, Engine, Keychain};
use grantkeeper_test_support::{require_session, unique_keychain_service};
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;

/// The app with its commands and a fresh engine (own data directory and keychain
/// service), its main window, and what it needs kept alive.
pub struct MockApp {
    pub app: tauri::App<MockRuntime>,
    pub webview: tauri::WebviewWindow<MockRuntime>,
    pub service: String,
    _home: tempfile::TempDir,
}

pub fn mock_app(browser: Browser) -> MockApp {
    require_session();
    let home = tempfile::tempdir().unwrap();
    let service = unique_keychain_service();
    let config = Config::new(home.path().to_owned(), service.clone(), browser);
    let engine = Engine::open(config, Arc::new(Keychain::new(service.clone()))).unwrap();
    let app =
        grantkeeper_app::with_engine(mock_builder(), engine).build(mock_context(noop_assets())).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    MockApp { app, webview, service, _home: home }
}

/// Sends `cmd` with `args` as the window's IPC does; the reply or the error payload.
pub fn invoke(webview: &tauri::WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}
