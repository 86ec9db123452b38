//! The main window: made with the connection list already in its page, brought forward
//! on request, hidden (not closed) by its close button.

use grantkeeper_engine::Engine;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, WebviewWindowBuilder, Window, WindowEvent};
use tauri_specta::Event;

const MAIN: &str = "main";

/// Makes the main window from its entry in tauri.conf.json (which has `"create": false`
/// for this), hidden as configured. Its page starts with the connection list as
/// `window.__GRANTKEEPER_FIRST_CONNECTIONS__`, so its first frame needs no IPC call:
/// the first call waits for the isolation frame every call passes (about 50 ms).
pub fn create<R: Runtime>(app: &AppHandle<R>, engine: &Engine) -> tauri::Result<()> {
    let config = app.config().app.windows.iter().find(|window| window.label == MAIN);
    let config = config.expect("tauri.conf.json describes the main window").clone();
    let mut builder = WebviewWindowBuilder::from_config(app, &config)?;
    if let Some(script) = first_connections_script(engine) {
        builder = builder.initialization_script(script);
    }
    builder.build()?;
    Ok(())
}

/// The same list `list_connections` returns; none when it cannot be read, and the page
/// then asks for it.
fn first_connections_script(engine: &Engine) -> Option<String> {
    let connections = engine
        .connections()
        .inspect_err(|error| tracing::warn!(%error, "no list for the window's first frame"))
        .ok()?;
    page_value_script("__GRANTKEEPER_FIRST_CONNECTIONS__", &connections)
}

/// Sets `window.<name>` to `value`, handed over as a string the page parses as JSON, so
/// nothing in it (a name a person typed, say) can be read as code.
fn page_value_script(name: &str, value: &impl Serialize) -> Option<String> {
    let json = serde_json::to_string(value).ok()?;
    let literal = serde_json::to_string(&json).ok()?;
    Some(format!("window.{name} = JSON.parse({literal});"))
}

/// The connection the window is to open on, until the window takes it: a window that
/// has not started yet (made hidden, at login) would miss the event.
#[derive(Default)]
pub struct ConnectionToShow(std::sync::Mutex<Option<String>>);

impl ConnectionToShow {
    pub fn take(&self) -> Option<String> {
        self.0.lock().expect("connection to show").take()
    }
}

/// Brings the window forward on one connection (the tray's and notifications' clicks).
pub fn show_connection<R: Runtime>(app: &AppHandle<R>, connection_id: &str) {
    *app.state::<ConnectionToShow>().0.lock().expect("connection to show") = Some(connection_id.to_owned());
    show(app);
    let _ = crate::events::ShowConnection(connection_id.to_owned()).emit(app);
}

pub fn show<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Closing the window keeps Grantkeeper in the tray, so refreshes go on; Quit (tray menu
/// or window) ends it, and launching it again shows the window.
pub fn hide_on_close<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        api.prevent_close();
        let _ = window.hide();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_value_is_json_inside_one_string_literal_whatever_it_holds() {
        let value = serde_json::json!([{ "name": "a\"b</script><!--\u{2028}${x}`" }]);
        let script = page_value_script("__VALUE__", &value).unwrap();
        let literal =
            script.strip_prefix("window.__VALUE__ = JSON.parse(").unwrap().strip_suffix(");").unwrap();
        let json: String = serde_json::from_str(literal).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json).unwrap(), value);
    }
}
