//! What needs the person: the connections in Reauthorize or Needs more access, shown in
//! the tray and announced once each by a notification, which is withdrawn once none of
//! its connections needs the person. Computed from the connection list on every change,
//! so transitions made by the CLI are noticed too.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use grantkeeper_engine::{Connection, ConnectionStatus, Engine};
use tauri::{AppHandle, Manager, Runtime};

use crate::{notifications, tray};

/// Connections already announced, so each transition notifies once.
#[derive(Default)]
pub struct Announced(Mutex<HashSet<String>>);

fn needs_person(connection: &Connection) -> bool {
    matches!(connection.status, ConnectionStatus::Reauthorize | ConnectionStatus::NeedsMoreAccess)
}

/// Re-reads the connections and updates the tray and notifications.
pub fn refresh<R: Runtime>(app: &AppHandle<R>, engine: &Arc<Engine>) {
    let connections = match engine.connections() {
        Ok(connections) => connections,
        Err(error) => return tracing::warn!(%error, "cannot read connections for the tray"),
    };
    let waiting: Vec<&Connection> = connections.iter().filter(|c| needs_person(c)).collect();
    if let Err(error) = tray::update(app, &waiting) {
        tracing::warn!(%error, "cannot update the tray");
    }
    let fresh: Vec<&Connection> = {
        let announced = app.state::<Announced>();
        let mut announced = announced.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        announced.retain(|id| waiting.iter().any(|c| &c.id == id));
        waiting.iter().copied().filter(|c| announced.insert(c.id.clone())).collect()
    };
    notifications::withdraw_settled(app, &waiting);
    notifications::notify(app, &fresh);
}
