//! The main window: brought forward on request, hidden (not closed) by its close button.

use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};

pub fn show<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
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
