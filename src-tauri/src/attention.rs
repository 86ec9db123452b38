//! What needs the person: the tray icon's look and menu, and one desktop notification
//! per connection that newly needs reauthorization. Computed from the connection list
//! on every change, so transitions made by the CLI are noticed too.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use grantkeeper_engine::{Connection, ConnectionStatus, Engine};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

const TRAY_ID: &str = "grantkeeper";
const OPEN: &str = "open";
const QUIT: &str = "quit";
const CONNECTION_ITEM: &str = "connection:";
/// The notification's `extra` field naming the connection it is about.
const NOTIFIED_CONNECTION: &str = "connection_id";
/// Tells the window which connection to show (its payload is the connection id).
pub const SHOW_CONNECTION_EVENT: &str = "show-connection";

/// Connections already announced, so each transition notifies once.
#[derive(Default)]
pub struct Announced(Mutex<HashSet<String>>);

fn needs_person(connection: &Connection) -> bool {
    matches!(connection.status, ConnectionStatus::Reauthorize | ConnectionStatus::NeedsMoreAccess)
}

pub fn create_tray<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(include_bytes!("../../icons/tray.png"))?)
        .tooltip("Grantkeeper: all connections are fine")
        .on_menu_event(|app, event| match event.id().as_ref() {
            QUIT => app.exit(0),
            OPEN => show_window(app),
            // A connection that needs the person: the window opens on it, ready to act.
            id => {
                show_window(app);
                if let Some(connection_id) = id.strip_prefix(CONNECTION_ITEM) {
                    let _ = app.emit(SHOW_CONNECTION_EVENT, connection_id);
                }
            }
        })
        .build(app)?;
    Ok(())
}

/// A click on one of our notifications opens the window on its connection (on the
/// Connections page when it was about several).
pub fn handle_notification_clicks<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let registered = app.notification().on_action(move |performed| {
        if performed.action_id() != "tap" {
            return;
        }
        show_window(&handle);
        let connection_id = performed
            .notification()
            .and_then(|n| n.extra().get(NOTIFIED_CONNECTION))
            .and_then(|id| id.as_str());
        if let Some(connection_id) = connection_id {
            let _ = handle.emit(SHOW_CONNECTION_EVENT, connection_id);
        }
    });
    if let Err(error) = registered {
        tracing::warn!(%error, "clicks on notifications will not open the window");
    }
}

pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Re-reads the connections and updates the tray and notifications.
pub fn refresh<R: Runtime>(app: &AppHandle<R>, engine: &Arc<Engine>) {
    let connections = match engine.connections() {
        Ok(connections) => connections,
        Err(error) => return tracing::warn!(%error, "cannot read connections for the tray"),
    };
    let waiting: Vec<&Connection> = connections.iter().filter(|c| needs_person(c)).collect();
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        if let Err(error) = update_tray(app, &tray, &waiting) {
            tracing::warn!(%error, "cannot update the tray");
        }
    }
    let fresh: Vec<&Connection> = {
        let announced = app.state::<Announced>();
        let mut announced = announced.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        announced.retain(|id| waiting.iter().any(|c| &c.id == id));
        waiting.iter().copied().filter(|c| announced.insert(c.id.clone())).collect()
    };
    notify(app, &fresh);
}

fn update_tray<R: Runtime>(
    app: &AppHandle<R>,
    tray: &TrayIcon<R>,
    waiting: &[&Connection],
) -> tauri::Result<()> {
    let (icon, tooltip): (&[u8], String) = if waiting.is_empty() {
        (include_bytes!("../../icons/tray.png"), "Grantkeeper: all connections are fine".into())
    } else {
        (include_bytes!("../../icons/tray-attention.png"), format!("Grantkeeper: {} need you", waiting.len()))
    };
    tray.set_icon(Some(Image::from_bytes(icon)?))?;
    tray.set_tooltip(Some(tooltip))?;
    let menu = Menu::new(app)?;
    for connection in waiting {
        let label = match connection.status {
            ConnectionStatus::NeedsMoreAccess => {
                format!("Grant access: {} ({})", connection.name, connection.provider)
            }
            _ => format!("Reconnect {} ({})", connection.name, connection.provider),
        };
        menu.append(&MenuItem::with_id(
            app,
            format!("{CONNECTION_ITEM}{}", connection.id),
            label,
            true,
            None::<&str>,
        )?)?;
    }
    if !waiting.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    menu.append(&MenuItem::with_id(app, OPEN, "Open Grantkeeper", true, None::<&str>)?)?;
    menu.append(&MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?)?;
    tray.set_menu(Some(menu))
}

/// One notification for the connections that just started needing the person;
/// several at once are grouped. Transient failures never get here.
fn notify<R: Runtime>(app: &AppHandle<R>, fresh: &[&Connection]) {
    let (title, body) = match fresh {
        [] => return,
        [one] if one.status == ConnectionStatus::NeedsMoreAccess => (
            format!("{} needs more access", one.name),
            format!("{} granted less than it needs. Open Grantkeeper and click Grant access.", one.provider),
        ),
        [one] => (
            format!("Reconnect {}", one.name),
            format!("{} no longer accepts this sign-in. Open Grantkeeper and click Reconnect.", one.provider),
        ),
        many => (
            format!("{} connections need you", many.len()),
            format!(
                "{} need you. Open Grantkeeper and click Reconnect or Grant access on each.",
                many.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ),
    };
    let mut builder = app.notification().builder().title(title).body(body);
    if let [one] = fresh {
        builder = builder.extra(NOTIFIED_CONNECTION, &one.id);
    }
    if let Err(error) = builder.show() {
        tracing::warn!(%error, "cannot show a notification");
    }
}
