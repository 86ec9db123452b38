//! Thin commands: call the engine, map its error to `{code, message, field}`.
//! No command returns a token or a secret.

use std::sync::Arc;

use grantkeeper_engine::api::CheckResult;
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::api::NewApiKey;
use grantkeeper_engine::api::Removal;
use grantkeeper_engine::api::{CatalogIntegration, ProviderAppInput};
use grantkeeper_engine::catalog::Catalog;
use grantkeeper_engine::{
    ActivityEvent, Connection, Engine, ErrorCode, ErrorPayload, FlowStarted, NewProvider, Provider,
};
use tauri::{ipc::Invoke, AppHandle, Runtime, State};

use crate::login_item;

type Reply<T> = Result<T, ErrorPayload>;

pub fn handlers<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        list_connections,
        list_catalog,
        list_providers,
        add_provider,
        set_provider_app,
        remove_provider,
        connect,
        reconnect,
        grant_access,
        add_api_key,
        test_connection,
        rename_connection,
        cancel_flow,
        refresh_connection,
        remove_connection,
        list_activity,
        connection_activity,
        start_at_login,
        set_start_at_login,
        quit
    ]
}

#[tauri::command]
fn list_connections(engine: State<'_, Arc<Engine>>) -> Reply<Vec<Connection>> {
    engine.connections().map_err(|e| e.payload())
}

#[tauri::command]
fn list_catalog() -> Vec<CatalogIntegration> {
    Catalog::builtin().views()
}

#[tauri::command]
fn list_providers(engine: State<'_, Arc<Engine>>) -> Reply<Vec<Provider>> {
    engine.providers().map_err(|e| e.payload())
}

#[tauri::command]
async fn add_provider(engine: State<'_, Arc<Engine>>, input: NewProvider) -> Reply<Provider> {
    engine.add_provider(input).await.map_err(|e| e.payload())
}

/// Creates or changes the provider app of a built-in or custom provider.
#[tauri::command]
async fn set_provider_app(
    engine: State<'_, Arc<Engine>>,
    provider_id: String,
    input: ProviderAppInput,
) -> Reply<Provider> {
    engine.set_provider_app(&provider_id, input).await.map_err(|e| e.payload())
}

/// `with_connections`: the person confirmed removing the connections that use it.
#[tauri::command]
async fn remove_provider(
    engine: State<'_, Arc<Engine>>,
    provider_id: String,
    with_connections: bool,
) -> Reply<()> {
    engine.remove_provider(&provider_id, with_connections).await.map_err(|e| e.payload())
}

/// Starts a flow and returns at once; its end arrives as an `engine-event`.
#[tauri::command]
async fn connect(
    engine: State<'_, Arc<Engine>>,
    integration: String,
    options: ConnectOptions,
) -> Reply<FlowStarted> {
    let pending = engine.connect(&integration, options).await.map_err(|e| e.payload())?;
    Ok(pending.started)
}

/// Asks for exactly the scopes a Needs-more-access connection lacks; ends like `connect`.
#[tauri::command]
async fn grant_access(engine: State<'_, Arc<Engine>>, connection_id: String) -> Reply<FlowStarted> {
    let pending = engine.grant_access(&connection_id).await.map_err(|e| e.payload())?;
    Ok(pending.started)
}

/// Signs in again for a connection, which keeps its id; ends like `connect`.
#[tauri::command]
async fn reconnect(engine: State<'_, Arc<Engine>>, connection_id: String) -> Reply<FlowStarted> {
    let pending = engine.reconnect(&connection_id).await.map_err(|e| e.payload())?;
    Ok(pending.started)
}

#[tauri::command]
fn cancel_flow(engine: State<'_, Arc<Engine>>, flow_id: String) -> Reply<()> {
    engine.cancel_flow(&flow_id).map_err(|e| e.payload())
}

/// "Refresh now": the same single-flight refresh the CLI uses. Returns metadata only.
#[tauri::command]
async fn refresh_connection(engine: State<'_, Arc<Engine>>, connection_id: String) -> Reply<Connection> {
    engine.refresh_now(&connection_id).await.map_err(|e| e.payload())
}

/// Removes a connection; the reply says whether the provider revoked the grant.
#[tauri::command]
async fn remove_connection(engine: State<'_, Arc<Engine>>, connection_id: String) -> Reply<Removal> {
    engine.remove_connection(&connection_id).await.map_err(|e| e.payload())
}

/// The newest entries of the activity log.
#[tauri::command]
fn list_activity(engine: State<'_, Arc<Engine>>) -> Reply<Vec<ActivityEvent>> {
    engine.activity(500).map_err(|e| e.payload())
}

/// The newest entries about one connection and its sign-in.
#[tauri::command]
fn connection_activity(engine: State<'_, Arc<Engine>>, connection_id: String) -> Reply<Vec<ActivityEvent>> {
    engine.connection_activity(&connection_id, 200).map_err(|e| e.payload())
}

/// Saves an API key (checked with the service first when asked); nothing secret comes back.
#[tauri::command]
async fn add_api_key(
    engine: State<'_, Arc<Engine>>,
    integration: String,
    input: NewApiKey,
) -> Reply<Connection> {
    engine.add_api_key(&integration, input).await.map_err(|e| e.payload())
}

/// "Test connection": one cheap request with a fresh token or the key.
#[tauri::command]
async fn test_connection(engine: State<'_, Arc<Engine>>, connection_id: String) -> Reply<CheckResult> {
    engine.test_connection(&connection_id).await.map_err(|e| e.payload())
}

#[tauri::command]
fn rename_connection(
    engine: State<'_, Arc<Engine>>,
    connection_id: String,
    name: String,
) -> Reply<Connection> {
    engine.rename_connection(&connection_id, &name).map_err(|e| e.payload())
}

/// Quits Grantkeeper (closing the window only hides it, so refreshes go on).
#[tauri::command]
fn quit<R: Runtime>(app: AppHandle<R>) {
    app.exit(0);
}

/// Whether Grantkeeper starts when the person logs in.
#[tauri::command]
fn start_at_login<R: Runtime>(app: AppHandle<R>) -> Reply<bool> {
    login_item::is_enabled(&app).map_err(|e| login_item_error(&e))
}

#[tauri::command]
fn set_start_at_login<R: Runtime>(app: AppHandle<R>, enabled: bool) -> Reply<bool> {
    login_item::set_enabled(&app, enabled)
        .and_then(|()| login_item::is_enabled(&app))
        .map_err(|e| login_item_error(&e))
}

fn login_item_error(error: &str) -> ErrorPayload {
    ErrorPayload {
        code: ErrorCode::Internal,
        message: format!("Could not change whether Grantkeeper starts at login: {error}"),
        field: None,
    }
}
