//! The Tauri shell: opens the engine, hands it to thin commands, and re-emits the
//! engine's events to the window. Everything that touches a secret stays in the engine.

mod commands;
mod events;

use std::sync::Arc;

use grantkeeper_engine::{Config, Engine, Keychain};
use tauri::{Manager, Runtime};

/// The app with its commands, over any runtime (tests use the mock runtime).
pub fn builder<R: Runtime>(engine: Arc<Engine>) -> tauri::Builder<R> {
    tauri::Builder::<R>::new()
        .invoke_handler(commands::handlers())
        .setup(move |app| {
            events::forward(app.handle().clone(), engine.subscribe());
            app.manage(engine);
            Ok(())
        })
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GRANTKEEPER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let engine = match Config::from_env()
        .and_then(|config| Engine::open(config.clone(), Arc::new(Keychain::new(config.keychain_service))))
    {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("Grantkeeper cannot start: {error}");
            std::process::exit(1);
        }
    };
    builder::<tauri::Wry>(engine)
        .run(tauri::generate_context!())
        .expect("the Tauri application failed to run");
}
