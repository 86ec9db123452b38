//! The Tauri shell: opens the engine, hands it to thin commands, runs its refresh
//! scheduler, and re-emits the engine's events to the window. Everything that touches a secret stays in the engine.

mod attention;
mod cli_program;
mod commands;
mod events;
mod first_screen;
pub mod ipc;
mod login_item;
mod notifications;
mod painting;
mod single_instance;
mod startup;
mod tray;
mod window;

use std::sync::Arc;

use first_screen::FirstScreen;
use grantkeeper_engine::{Config, Engine, Keychain};
use tauri::{Manager, Runtime};

/// Adds Grantkeeper's commands and engine to a builder of any runtime (tests pass
/// `tauri::test::mock_builder()`).
pub fn with_engine<R: Runtime>(builder: tauri::Builder<R>, engine: Arc<Engine>) -> tauri::Builder<R> {
    let background = engine.clone();
    #[cfg(not(target_os = "linux"))]
    let builder = builder
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None));
    builder
        .plugin(tauri_plugin_notification::init())
        .manage(engine)
        .manage(attention::Announced::default())
        .manage(notifications::OnScreen::default())
        .manage(FirstScreen::default())
        .manage(window::ConnectionToShow::default())
        .invoke_handler(ipc::builder().invoke_handler())
        .on_window_event(window::hide_on_close)
        .setup(move |app| {
            // The window is made hidden (tauri.conf.json), so a start in the background shows none.
            window::create(app.handle(), &background)?;
            if !started_in_background() {
                window::show(app.handle());
            }
            startup::mark("window shown");
            if let Err(error) = tray::create(app.handle()) {
                // No tray host (some desktops, Xvfb): notifications still work.
                tracing::warn!(%error, "no tray icon");
            }
            startup::mark("tray created");
            // Before the first notification: only those shown after it report clicks.
            notifications::handle_clicks(app.handle());
            attention::refresh(app.handle(), &background);
            // Also registers the typed events the tray and notifications emit on clicks,
            // which arrive once the event loop runs.
            forward_engine_events(app.handle());
            // The CLI writes the same database: its changes reach the window and scheduler.
            match tauri::async_runtime::block_on(async { background.watch_database() }) {
                Ok(watch) => {
                    app.manage(watch);
                }
                Err(error) => tracing::warn!(%error, "changes made by the CLI will show after a restart"),
            }
            serve_agent(app, &background);
            startup::mark("setup done");
            run_background_work(app.handle().clone(), background);
            Ok(())
        })
}

/// The app's lifetime work: the system-bus watchers, the keychain check, revocation
/// retries and the refresh scheduler. None of it is needed for the first screen, so it
/// starts once the window has drawn it (at once when started in the background).
fn run_background_work<R: Runtime>(app: tauri::AppHandle<R>, engine: Arc<Engine>) {
    tauri::async_runtime::spawn(async move {
        if !started_in_background() {
            app.state::<FirstScreen>().wait().await;
            startup::mark("first screen shown");
        }
        engine.watch_system_signals();
        if let Err(error) = engine.repair().await {
            tracing::warn!(%error, "could not check the keychain for missing tokens");
        }
        startup::mark("keychain checked");
        if let Err(error) = engine.retry_revocations().await {
            tracing::warn!(%error, "could not retry pending revocations");
        }
        engine.run_scheduler().await;
    });
}

/// The token agent, for the app's lifetime; without it programs read the keychain
/// themselves, as before it existed.
fn serve_agent<R: Runtime>(app: &tauri::App<R>, engine: &Arc<Engine>) {
    #[cfg(any(target_os = "linux", windows))]
    {
        let path = grantkeeper_engine::agent::address(engine.home());
        match tauri::async_runtime::block_on(async { engine.serve_agent(&path) }) {
            Ok(server) => {
                app.manage(server);
            }
            Err(error) => tracing::warn!(%error, "programs will not be asked about before they get tokens"),
        }
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    let _ = (app, engine);
}

/// Registers the window's typed events with the app (none can be emitted before), then
/// re-emits the engine's events to the window as `engine-event`. The app's setup calls
/// it; tests of the IPC that run no event loop (so no setup) call it themselves.
pub fn forward_engine_events<R: Runtime>(app: &tauri::AppHandle<R>) {
    ipc::builder::<R>().mount_events(app);
    let engine = app.state::<Arc<Engine>>().inner().clone();
    events::forward(app.clone(), engine.subscribe(), engine);
}

pub fn run() {
    painting::paint_on_the_cpu();
    grantkeeper_engine::logging::log_to_stderr("info");
    startup::mark("main");
    let config = Config::from_env().unwrap_or_else(|error| fail(&error));
    let background = started_in_background();
    let first = match single_instance::claim(&config.home, !background) {
        Ok(single_instance::Launch::First(first)) => first,
        Ok(single_instance::Launch::Second) if background => return,
        Ok(single_instance::Launch::Second) => {
            eprintln!("Grantkeeper is already running; its window was brought forward.");
            return;
        }
        Err(error) => fail(&format!("cannot use the data directory {}: {error}", config.home.display())),
    };
    startup::mark("single instance claimed");
    let engine = Engine::open(config.clone(), Arc::new(Keychain::new(config.keychain_service.clone())))
        .unwrap_or_else(|error| fail(&error));
    startup::mark("engine opened");
    // The window's size and position are remembered beside the data they show, so each
    // data directory (and each test run) has its own; an absolute file name replaces the
    // plugin's config directory.
    let window_state = config.home.join("window-state.json");
    let app = with_engine(tauri::Builder::default(), engine)
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_filename(window_state.to_string_lossy())
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::SIZE
                        | tauri_plugin_window_state::StateFlags::POSITION
                        | tauri_plugin_window_state::StateFlags::MAXIMIZED,
                )
                .build(),
        )
        .build(tauri::generate_context!())
        .expect("the Tauri application failed to start");
    startup::mark("app built");
    let handle = app.handle().clone();
    first.serve(move || window::show(&handle));
    app.run(|_, _| {});
}

/// Started by `grantkeeper token` or at login (`--background`): the tray only, no window.
fn started_in_background() -> bool {
    std::env::args().skip(1).any(|arg| arg == "--background")
}

fn fail(error: &dyn std::fmt::Display) -> ! {
    eprintln!("Grantkeeper cannot start: {error}");
    // Started from a launcher or at login, nobody reads stderr.
    let shown = notify_rust::Notification::new()
        .appname("Grantkeeper")
        .summary("Grantkeeper cannot start")
        .body(&notifications::body_text(&error.to_string()))
        .show();
    if let Err(not_shown) = shown {
        eprintln!("(no desktop notification either: {not_shown})");
    }
    std::process::exit(1);
}
