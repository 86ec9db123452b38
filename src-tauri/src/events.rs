//! Re-emits the engine's events to the window as the typed `engine-event`, and keeps
//! the tray and notifications in step with the connections.

use std::sync::Arc;

use grantkeeper_engine::{Engine, EngineEvent};
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::broadcast::{error::RecvError, Receiver};

pub const ENGINE_EVENT: &str = "engine-event";
/// Tells the window which connection to show (its payload is the connection id).
pub const SHOW_CONNECTION_EVENT: &str = "show-connection";

pub fn forward<R: Runtime>(app: AppHandle<R>, mut events: Receiver<EngineEvent>, engine: Arc<Engine>) {
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if matches!(event, EngineEvent::ConnectionsChanged) {
                        crate::attention::refresh(&app, &engine);
                    }
                    if let Err(error) = app.emit(ENGINE_EVENT, &event) {
                        tracing::warn!(%error, "could not emit an engine event");
                    }
                }
                // Missed events only mean a stale list: tell the window to reload.
                Err(RecvError::Lagged(_)) => {
                    crate::attention::refresh(&app, &engine);
                    let _ = app.emit(ENGINE_EVENT, &EngineEvent::ConnectionsChanged);
                    let _ = app.emit(ENGINE_EVENT, &EngineEvent::ProvidersChanged);
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}
