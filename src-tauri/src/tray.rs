//! The tray icon: its look says whether a connection needs the person, and its menu
//! leads to each of them.

use grantkeeper_engine::{Connection, ConnectionStatus};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Runtime};

const TRAY_ID: &str = "grantkeeper";
const OPEN: &str = "open";
const QUIT: &str = "quit";
const CONNECTION_ITEM: &str = "connection:";

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(include_bytes!("../../icons/tray.png"))?)
        .tooltip("Grantkeeper: all connections are fine")
        .on_menu_event(|app, event| match event.id().as_ref() {
            QUIT => app.exit(0),
            OPEN => crate::window::show(app),
            // A connection that needs the person: the window opens on it, ready to act.
            id => match id.strip_prefix(CONNECTION_ITEM) {
                Some(connection_id) => crate::window::show_connection(app, connection_id),
                None => crate::window::show(app),
            },
        })
        .build(app)?;
    Ok(())
}

/// Shows the connections that need the person: the attention icon, their count, and
/// one menu item each. Without a tray (no tray host) there is nothing to do.
pub fn update<R: Runtime>(app: &AppHandle<R>, waiting: &[&Connection]) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return Ok(()) };
    let (icon, tooltip): (&[u8], String) = if waiting.is_empty() {
        (include_bytes!("../../icons/tray.png"), "Grantkeeper: all connections are fine".into())
    } else {
        (include_bytes!("../../icons/tray-attention.png"), format!("Grantkeeper: {} need you", waiting.len()))
    };
    tray.set_icon(Some(Image::from_bytes(icon)?))?;
    tray.set_tooltip(Some(tooltip))?;
    let menu = Menu::new(app)?;
    for connection in waiting {
        let (name, provider) = (menu_text(&connection.name, 40), menu_text(&connection.provider, 30));
        let label = match connection.status {
            ConnectionStatus::NeedsMoreAccess => format!("Grant access: {name} ({provider})"),
            _ => format!("Reconnect {name} ({provider})"),
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

/// A name as a menu item shows it: menus read `&` as "the next letter is the shortcut"
/// (so "R&D" showed as "RD"), and `&&` as an `&`; a very long name is cut, or the menu
/// would be as wide.
fn menu_text(text: &str, limit: usize) -> String {
    let mut shown: String = text.chars().take(limit).collect();
    if text.chars().count() > limit {
        shown.push('…');
    }
    shown.replace('&', "&&")
}

#[cfg(test)]
mod tests {
    use super::menu_text;

    #[test]
    fn names_keep_their_ampersands_and_long_ones_are_cut() {
        assert_eq!(menu_text("R&D mail", 40), "R&&D mail");
        assert_eq!(menu_text("Work mail", 40), "Work mail");
        assert_eq!(menu_text(&"W".repeat(100), 40), format!("{}…", "W".repeat(40)));
        assert_eq!(menu_text("Work_mail", 40), "Work_mail", "underscores are the menu library's to escape");
    }
}
