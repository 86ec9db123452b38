//! Desktop notifications: one when connections start needing the person, one when a
//! program asks for a token; a click on one opens the window (on its connection).

use grantkeeper_engine::api::ConsentRequest;
use grantkeeper_engine::{Connection, ConnectionStatus};
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

use crate::events::ShowConnection;

/// The notification's `extra` field naming the connection it is about.
const NOTIFIED_CONNECTION: &str = "connection_id";

/// A click on one of our notifications opens the window on its connection (on the
/// Connections page when it was about several).
pub fn handle_clicks<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let registered = app.notification().on_action(move |performed| {
        if performed.action_id() != "tap" {
            return;
        }
        crate::window::show(&handle);
        let connection_id = performed
            .notification()
            .and_then(|n| n.extra().get(NOTIFIED_CONNECTION))
            .and_then(|id| id.as_str());
        if let Some(connection_id) = connection_id {
            let _ = ShowConnection(connection_id.to_owned()).emit(&handle);
        }
    });
    if let Err(error) = registered {
        tracing::warn!(%error, "clicks on notifications will not open the window");
    }
}

/// One notification for the connections that just started needing the person;
/// several at once are grouped. Transient failures never get here.
pub fn notify<R: Runtime>(app: &AppHandle<R>, fresh: &[&Connection]) {
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

/// A program asks for a connection's token: the person answers in the window, which a
/// click opens (desktop notifications cannot carry the answer buttons everywhere).
pub fn ask_consent<R: Runtime>(app: &AppHandle<R>, request: &ConsentRequest) {
    let program = &request.program;
    let from =
        program.started_from.as_deref().map(|parent| format!(", started from {parent}")).unwrap_or_default();
    let body = format!(
        "{} ({}{from}) wants your {} token. Open Grantkeeper to allow or deny it.",
        program.name, program.path, request.connection_name
    );
    let title = format!("{} wants a token", program.name);
    let shown = app.notification().builder().title(title).body(body).show();
    if let Err(error) = shown {
        tracing::warn!(%error, "cannot show a notification");
    }
}
