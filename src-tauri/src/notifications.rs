//! Desktop notifications: one when connections start needing the person, one when a
//! program asks for a token; a click on one opens the window (on its connection). Each
//! is withdrawn once what it says no longer holds, so the desktop's list of
//! notifications shows no Reconnect for a connection already reconnected.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use grantkeeper_engine::api::ConsentRequest;
use grantkeeper_engine::{Connection, ConnectionStatus};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::{NotificationBuilder, NotificationExt};

/// The notification's `extra` field naming the connection it is about.
const NOTIFIED_CONNECTION: &str = "connection_id";

/// What a notification on the desktop is about.
enum Subject {
    /// Connections that needed the person (several when they began together).
    Connections(Vec<String>),
    /// A program's request for a token, by its id.
    Consent(String),
}

/// The notifications shown by this run, by the id given to each.
#[derive(Default)]
pub struct OnScreen(Mutex<Notified>);

#[derive(Default)]
struct Notified {
    last_id: i32,
    about: HashMap<i32, Subject>,
}

fn on_screen<R: Runtime>(app: &AppHandle<R>) -> MutexGuard<'_, Notified> {
    let state = app.state::<OnScreen>().inner();
    state.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Shows `builder`'s notification under an id of its own, remembered with `subject`.
fn show<R: Runtime>(app: &AppHandle<R>, builder: NotificationBuilder<R>, subject: Subject) {
    let id = {
        let mut notified = on_screen(app);
        notified.last_id = notified.last_id.wrapping_add(1);
        notified.last_id
    };
    match builder.id(id).show() {
        Ok(()) => {
            on_screen(app).about.insert(id, subject);
        }
        Err(error) => tracing::warn!(%error, "cannot show a notification"),
    }
}

/// Withdraws the notifications whose subject `settled` says no longer holds.
fn withdraw<R: Runtime>(app: &AppHandle<R>, settled: impl Fn(&Subject) -> bool) {
    let ids: Vec<i32> = {
        let mut notified = on_screen(app);
        let ids = notified.about.iter().filter(|(_, subject)| settled(subject)).map(|(id, _)| *id).collect();
        notified.about.retain(|_, subject| !settled(subject));
        ids
    };
    if ids.is_empty() {
        return;
    }
    // Only where the desktop lets a notification be closed (Linux and the BSDs); one the
    // person already dismissed is no longer known to the plugin and is passed over.
    if let Err(error) = app.notification().remove_active(ids) {
        tracing::warn!(%error, "cannot withdraw a notification");
    }
}

/// Withdraws the notifications about connections of which none needs the person now.
pub fn withdraw_settled<R: Runtime>(app: &AppHandle<R>, waiting: &[&Connection]) {
    withdraw(app, |subject| match subject {
        Subject::Connections(ids) => !ids.iter().any(|id| waiting.iter().any(|c| &c.id == id)),
        Subject::Consent(_) => false,
    });
}

/// Withdraws the notification of a request for a token that was answered or ended.
pub fn withdraw_consent<R: Runtime>(app: &AppHandle<R>, request_id: &str) {
    withdraw(app, |subject| matches!(subject, Subject::Consent(id) if id == request_id));
}

/// Withdraws the notifications of requests for a token no longer in `pending` (after
/// missed events, which may have included their ends).
pub fn withdraw_ended_consents<R: Runtime>(app: &AppHandle<R>, pending: &[ConsentRequest]) {
    withdraw(app, |subject| match subject {
        Subject::Consent(id) => !pending.iter().any(|request| &request.id == id),
        Subject::Connections(_) => false,
    });
}

/// A click on one of our notifications opens the window on its connection (on the
/// Connections page when it was about several).
pub fn handle_clicks<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let registered = app.notification().on_action(move |performed| {
        if performed.action_id() != "tap" {
            return;
        }
        let connection_id = performed
            .notification()
            .and_then(|n| n.extra().get(NOTIFIED_CONNECTION))
            .and_then(|id| id.as_str());
        match connection_id {
            Some(connection_id) => crate::window::show_connection(&handle, connection_id),
            None => crate::window::show(&handle),
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
    let mut builder = app.notification().builder().title(title).body(body_text(&body));
    if let [one] = fresh {
        builder = builder.extra(NOTIFIED_CONNECTION, &one.id);
    }
    show(app, builder, Subject::Connections(fresh.iter().map(|c| c.id.clone()).collect()));
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
    let builder = app.notification().builder().title(title).body(body_text(&body));
    show(app, builder, Subject::Consent(request.id.clone()));
}

/// `text` as a notification's body. The names in it are chosen by the person, a provider
/// or a program; where the desktop's notification server reads the body as markup (it
/// says `body-markup`, as GNOME Shell, Plasma and dunst do), `<a href=…>` in a program's
/// name would show as a link and a lone `&` can spoil the whole body. There, they are
/// written as entities; elsewhere as they are.
pub fn body_text(text: &str) -> String {
    escaped_where(reads_markup(), text)
}

fn escaped_where(markup: bool, text: &str) -> String {
    if !markup {
        return text.to_owned();
    }
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Asked each time: the server may have been replaced since the last notification.
#[cfg(all(unix, not(target_os = "macos")))]
fn reads_markup() -> bool {
    notify_rust::get_capabilities().is_ok_and(|said| said.iter().any(|c| c == "body-markup"))
}

/// macOS and Windows show notification text as it is.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn reads_markup() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::escaped_where;

    #[test]
    fn markup_is_escaped_only_where_the_server_reads_markup() {
        let name = "R&D <a href=\"https://evil.example\">Firefox</a>";
        assert_eq!(
            escaped_where(true, name),
            "R&amp;D &lt;a href=\"https://evil.example\"&gt;Firefox&lt;/a&gt;"
        );
        assert_eq!(escaped_where(false, name), name);
    }
}
