//! The events the window hears, typed once here (its listeners are generated from
//! them): the engine's own, re-emitted as `engine-event`, and `show-connection` from the
//! tray and notifications.

use std::sync::Arc;

use grantkeeper_engine::{Engine, EngineEvent};
use serde::Serialize;
use specta::Type;
use tauri::{AppHandle, Runtime};
use tauri_specta::Event;
use tokio::sync::broadcast::{error::RecvError, Receiver};

/// An engine event as the window receives it. The shell's own type only because the
/// engine knows nothing of Tauri; it serializes as the engine's event.
#[derive(Clone, Serialize, Type, Event)]
#[serde(transparent)]
#[tauri_specta(event_name = "engine-event")]
pub struct ForwardedEngineEvent(EngineEvent);

/// Tells the window which connection to show: its id.
#[derive(Clone, Serialize, Type, Event)]
pub struct ShowConnection(pub String);

/// Re-emits the engine's events to the window, and keeps the tray and notifications in
/// step with the connections.
pub fn forward<R: Runtime>(app: AppHandle<R>, mut events: Receiver<EngineEvent>, engine: Arc<Engine>) {
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    match &event {
                        EngineEvent::ConnectionsChanged => crate::attention::refresh(&app, &engine),
                        EngineEvent::ConsentRequested { request } => {
                            crate::notifications::ask_consent(&app, request)
                        }
                        EngineEvent::ConsentEnded { id } => crate::notifications::withdraw_consent(&app, id),
                        _ => {}
                    }
                    if let Err(error) = ForwardedEngineEvent(event).emit(&app) {
                        tracing::warn!(%error, "could not emit an engine event");
                    }
                }
                // Missed events only mean stale lists: tell the window to read them again.
                Err(RecvError::Lagged(_)) => {
                    crate::attention::refresh(&app, &engine);
                    crate::notifications::withdraw_ended_consents(&app, &engine.pending_consents());
                    let _ = ForwardedEngineEvent(EngineEvent::EventsMissed).emit(&app);
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}
