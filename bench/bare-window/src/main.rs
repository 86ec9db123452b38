//! A bare Tauri 2 window: no commands, no plugins, no state. Only a baseline to
//! measure the app against (see BENCHMARKS.md).

// No console window on Windows release builds, as the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default().run(tauri::generate_context!()).expect("the bare Tauri window failed to run");
}
