//! The window's IPC, written once: the commands it may call and the events it hears.
//! The window's TypeScript client (`ui/src/bindings.ts`) is generated from this list and
//! the Rust signatures; `tests/ipc_bindings.rs` fails when it is stale.

use tauri::Runtime;
use tauri_specta::{collect_commands, collect_events, Builder, ErrorHandlingMode};

use crate::commands::*;
use crate::events::{ForwardedEngineEvent, ShowConnection};

pub fn builder<R: Runtime>() -> Builder<R> {
    Builder::new()
        // Generic commands name a runtime for their types only; Tauri's handler runs
        // them on whichever runtime the app has (tests use the mock one).
        .commands(collect_commands![
            list_connections,
            list_catalog,
            list_providers,
            add_provider,
            set_provider_app,
            remove_provider,
            connect,
            plan_url,
            connect_url,
            reconnect,
            grant_access,
            add_api_key,
            test_connection,
            rename_connection,
            cancel_flow,
            flow_end,
            answer_flow,
            refresh_connection,
            remove_connection,
            list_activity,
            connection_activity,
            ai_client_config,
            pending_consents,
            answer_consent,
            allowed_programs,
            revoke_program,
            set_consent_policy,
            require_app,
            set_require_app,
            start_at_login::<tauri::Wry>,
            set_start_at_login::<tauri::Wry>,
            first_screen_shown,
            take_connection_to_show,
            quit::<tauri::Wry>,
        ])
        .events(collect_events![ForwardedEngineEvent, ShowConnection])
        // A failed command rejects its promise with the error payload, as it always has.
        .error_handling(ErrorHandlingMode::Throw)
        // One TypeScript type per Rust type: the window sends what it receives, in full.
        .disable_serde_phases()
}
