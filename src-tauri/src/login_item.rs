//! "Start at login". On Linux an XDG autostart entry in `$XDG_CONFIG_HOME/autostart`
//! (the autostart plugin's library writes to `~/.config` whatever XDG_CONFIG_HOME
//! says); elsewhere the autostart plugin (a launch agent on macOS, the registry on
//! Windows).

use tauri::{AppHandle, Runtime};

pub fn is_enabled<R: Runtime>(app: &AppHandle<R>) -> Result<bool, String> {
    imp::is_enabled(app)
}

pub fn set_enabled<R: Runtime>(app: &AppHandle<R>, enabled: bool) -> Result<(), String> {
    imp::set_enabled(app, enabled)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::path::PathBuf;

    use tauri::{AppHandle, Runtime};

    fn entry<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf, String> {
        let config = dirs::config_dir().ok_or("no configuration directory (set XDG_CONFIG_HOME or HOME)")?;
        Ok(config.join("autostart").join(format!("{}.desktop", app.config().identifier)))
    }

    pub fn is_enabled<R: Runtime>(app: &AppHandle<R>) -> Result<bool, String> {
        Ok(entry(app)?.exists())
    }

    pub fn set_enabled<R: Runtime>(app: &AppHandle<R>, enabled: bool) -> Result<(), String> {
        let entry = entry(app)?;
        if !enabled {
            return match std::fs::remove_file(&entry) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.to_string()),
                _ => Ok(()),
            };
        }
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        // Desktop Entry Specification: an Exec argument with spaces is quoted. At login
        // the app starts in the tray only.
        let exec = format!(
            "\"{}\" --background",
            exe.display().to_string().replace('\\', "\\\\").replace('"', "\\\"")
        );
        let text = format!(
            "[Desktop Entry]\nType=Application\nName=Grantkeeper\nComment=Keeps your online accounts connected\nExec={exec}\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
        );
        std::fs::create_dir_all(entry.parent().expect("autostart/ has a parent"))
            .map_err(|e| e.to_string())?;
        std::fs::write(&entry, text).map_err(|e| e.to_string())
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use tauri::{AppHandle, Runtime};
    use tauri_plugin_autostart::ManagerExt;

    pub fn is_enabled<R: Runtime>(app: &AppHandle<R>) -> Result<bool, String> {
        app.autolaunch().is_enabled().map_err(|e| e.to_string())
    }

    pub fn set_enabled<R: Runtime>(app: &AppHandle<R>, enabled: bool) -> Result<(), String> {
        let launcher = app.autolaunch();
        if enabled { launcher.enable() } else { launcher.disable() }.map_err(|e| e.to_string())
    }
}
