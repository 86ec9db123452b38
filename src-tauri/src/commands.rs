//! Thin commands: validate, call the engine, return its `Result` (its error reaches the
//! window as `{code, message, field}`). No command returns a token or a secret.

use std::sync::Arc;

use grantkeeper_engine::api::{
    AiClient, AiClientConfig, AllowedProgram, CatalogIntegration, CheckResult, ConnectOptions, ConsentAnswer,
    ConsentPolicy, ConsentRequest, NewApiKey, ProviderAppInput, Removal, ResourcePlan,
};
use grantkeeper_engine::catalog::Catalog;
use grantkeeper_engine::{
    ActivityEvent, Connection, Engine, EngineEvent, ErrorCode, ErrorPayload, FlowStarted, NewProvider,
    Provider, Result,
};
use tauri::{AppHandle, Runtime, State};

use crate::first_screen::FirstScreen;
use crate::window::ConnectionToShow;
use crate::{cli_program, login_item};

#[tauri::command]
#[specta::specta]
pub fn list_connections(engine: State<'_, Arc<Engine>>) -> Result<Vec<Connection>> {
    engine.connections()
}

#[tauri::command]
#[specta::specta]
pub fn list_catalog() -> Vec<CatalogIntegration> {
    Catalog::builtin().views()
}

#[tauri::command]
#[specta::specta]
pub fn list_providers(engine: State<'_, Arc<Engine>>) -> Result<Vec<Provider>> {
    engine.providers()
}

#[tauri::command]
#[specta::specta]
pub async fn add_provider(engine: State<'_, Arc<Engine>>, input: NewProvider) -> Result<Provider> {
    engine.add_provider(input).await
}

/// Creates or changes the provider app of a built-in or custom provider.
#[tauri::command]
#[specta::specta]
pub async fn set_provider_app(
    engine: State<'_, Arc<Engine>>,
    provider_id: String,
    input: ProviderAppInput,
) -> Result<Provider> {
    engine.set_provider_app(&provider_id, input).await
}

/// `with_connections`: the person confirmed removing the connections that use it.
#[tauri::command]
#[specta::specta]
pub async fn remove_provider(
    engine: State<'_, Arc<Engine>>,
    provider_id: String,
    with_connections: bool,
) -> Result<()> {
    // The window shows the removals in the activity log.
    engine.remove_provider(&provider_id, with_connections).await.map(drop)
}

/// Starts a flow and returns at once; its end arrives as an `engine-event`.
#[tauri::command]
#[specta::specta]
pub async fn connect(
    engine: State<'_, Arc<Engine>>,
    integration: String,
    options: ConnectOptions,
) -> Result<FlowStarted> {
    Ok(engine.connect(&integration, options).await?.started)
}

/// Who guards `url`, what signing in there asks for and how Grantkeeper identifies
/// itself: shown before the browser opens. Changes nothing.
#[tauri::command]
#[specta::specta]
pub async fn plan_url(
    engine: State<'_, Arc<Engine>>,
    url: String,
    scopes: Vec<String>,
) -> Result<ResourcePlan> {
    engine.plan_url(&url, &scopes).await
}

/// Connects an MCP server or API by its URL; ends like `connect`.
#[tauri::command]
#[specta::specta]
pub async fn connect_url(
    engine: State<'_, Arc<Engine>>,
    url: String,
    options: ConnectOptions,
) -> Result<FlowStarted> {
    Ok(engine.connect_url(&url, options).await?.started)
}

/// What an AI client needs to use a connection made by URL: `grantkeeper mcp bridge`,
/// launched by the path of the CLI installed beside the app.
#[tauri::command]
#[specta::specta]
pub fn ai_client_config(
    engine: State<'_, Arc<Engine>>,
    connection_id: String,
    client: AiClient,
) -> Result<AiClientConfig> {
    engine.ai_client_config(&connection_id, client, &cli_program::beside_the_app())
}

/// Asks for exactly the scopes a Needs-more-access connection lacks; ends like `connect`.
#[tauri::command]
#[specta::specta]
pub async fn grant_access(engine: State<'_, Arc<Engine>>, connection_id: String) -> Result<FlowStarted> {
    Ok(engine.grant_access(&connection_id).await?.started)
}

/// Signs in again for a connection, which keeps its id; ends like `connect`.
#[tauri::command]
#[specta::specta]
pub async fn reconnect(engine: State<'_, Arc<Engine>>, connection_id: String) -> Result<FlowStarted> {
    Ok(engine.reconnect(&connection_id).await?.started)
}

#[tauri::command]
#[specta::specta]
pub fn cancel_flow(engine: State<'_, Arc<Engine>>, flow_id: String) -> Result<()> {
    engine.cancel_flow(&flow_id)
}

/// How a sign-in ended, for a window that missed its end event; null while it runs.
#[tauri::command]
#[specta::specta]
pub fn flow_end(engine: State<'_, Arc<Engine>>, flow_id: String) -> Option<EngineEvent> {
    engine.flow_end(&flow_id)
}

/// Finishes a sign-in approved on another device with the address its browser ended
/// on; refused with why when it is not this sign-in's, which goes on waiting.
#[tauri::command]
#[specta::specta]
pub async fn answer_flow(engine: State<'_, Arc<Engine>>, flow_id: String, address: String) -> Result<()> {
    engine.answer_flow(&flow_id, &address).await
}

/// "Refresh now": the same single-flight refresh the CLI uses. Returns metadata only.
#[tauri::command]
#[specta::specta]
pub async fn refresh_connection(engine: State<'_, Arc<Engine>>, connection_id: String) -> Result<Connection> {
    engine.refresh_now(&connection_id).await
}

/// Removes a connection; the reply says whether the provider revoked the grant.
#[tauri::command]
#[specta::specta]
pub async fn remove_connection(engine: State<'_, Arc<Engine>>, connection_id: String) -> Result<Removal> {
    engine.remove_connection(&connection_id).await
}

/// The newest entries of the activity log.
#[tauri::command]
#[specta::specta]
pub fn list_activity(engine: State<'_, Arc<Engine>>) -> Result<Vec<ActivityEvent>> {
    engine.activity(500)
}

/// The programs' requests for tokens waiting for the person's answer.
#[tauri::command]
#[specta::specta]
pub fn pending_consents(engine: State<'_, Arc<Engine>>) -> Vec<ConsentRequest> {
    engine.pending_consents()
}

#[tauri::command]
#[specta::specta]
pub fn answer_consent(
    engine: State<'_, Arc<Engine>>,
    request_id: String,
    answer: ConsentAnswer,
) -> Result<()> {
    engine.answer_consent(&request_id, answer)
}

#[tauri::command]
#[specta::specta]
pub fn allowed_programs(
    engine: State<'_, Arc<Engine>>,
    connection_id: String,
) -> Result<Vec<AllowedProgram>> {
    engine.allowed_programs(&connection_id)
}

#[tauri::command]
#[specta::specta]
pub fn revoke_program(engine: State<'_, Arc<Engine>>, connection_id: String, path: String) -> Result<()> {
    engine.revoke_program(&connection_id, &path)
}

#[tauri::command]
#[specta::specta]
pub fn set_consent_policy(
    engine: State<'_, Arc<Engine>>,
    connection_id: String,
    policy: ConsentPolicy,
) -> Result<Connection> {
    engine.set_consent_policy(&connection_id, policy)
}

/// Whether programs get tokens only through the running app ("Require the app").
#[tauri::command]
#[specta::specta]
pub fn require_app(engine: State<'_, Arc<Engine>>) -> Result<bool> {
    engine.require_app()
}

#[tauri::command]
#[specta::specta]
pub fn set_require_app(engine: State<'_, Arc<Engine>>, required: bool) -> Result<()> {
    engine.set_require_app(required)
}

/// The newest entries about one connection and its sign-in.
#[tauri::command]
#[specta::specta]
pub fn connection_activity(
    engine: State<'_, Arc<Engine>>,
    connection_id: String,
) -> Result<Vec<ActivityEvent>> {
    engine.connection_activity(&connection_id, 200)
}

/// Saves an API key (checked with the service first when asked); nothing secret comes back.
#[tauri::command]
#[specta::specta]
pub async fn add_api_key(
    engine: State<'_, Arc<Engine>>,
    integration: String,
    input: NewApiKey,
) -> Result<Connection> {
    engine.add_api_key(&integration, input).await
}

/// "Test connection": one cheap request with a fresh token or the key.
#[tauri::command]
#[specta::specta]
pub async fn test_connection(engine: State<'_, Arc<Engine>>, connection_id: String) -> Result<CheckResult> {
    engine.test_connection(&connection_id).await
}

#[tauri::command]
#[specta::specta]
pub fn rename_connection(
    engine: State<'_, Arc<Engine>>,
    connection_id: String,
    name: String,
) -> Result<Connection> {
    engine.rename_connection(&connection_id, &name)
}

/// The connection the tray or a notification asked the window to open on, once: the
/// window asks when it starts, and when told to show one.
#[tauri::command]
#[specta::specta]
pub fn take_connection_to_show(to_show: State<'_, ConnectionToShow>) -> Option<String> {
    to_show.take()
}

/// The window has drawn its first screen: start-up work it did not need may begin.
#[tauri::command]
#[specta::specta]
pub fn first_screen_shown(first_screen: State<'_, FirstScreen>) {
    first_screen.shown();
}

/// Quits Grantkeeper (closing the window only hides it, so refreshes go on).
#[tauri::command]
#[specta::specta]
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    app.exit(0);
}

/// Whether Grantkeeper starts when the person logs in.
#[tauri::command]
#[specta::specta]
pub fn start_at_login<R: Runtime>(app: AppHandle<R>) -> std::result::Result<bool, ErrorPayload> {
    login_item::is_enabled(&app).map_err(|e| login_item_error(&e))
}

#[tauri::command]
#[specta::specta]
pub fn set_start_at_login<R: Runtime>(
    app: AppHandle<R>,
    enabled: bool,
) -> std::result::Result<bool, ErrorPayload> {
    login_item::set_enabled(&app, enabled)
        .and_then(|()| login_item::is_enabled(&app))
        .map_err(|e| login_item_error(&e))
}

/// The login item is the shell's, not the engine's: its error is written here, in the
/// engine's payload shape.
fn login_item_error(error: &str) -> ErrorPayload {
    ErrorPayload {
        code: ErrorCode::Internal,
        message: format!("Could not change whether Grantkeeper starts at login: {error}"),
        field: None,
    }
}
