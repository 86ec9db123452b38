/// The app's commands, each a permission the main window's capability must grant by
/// name (`allow-<command-in-kebab-case>`); a command left out of the capability is refused.
const COMMANDS: &[&str] = &[
    "list_connections",
    "list_catalog",
    "list_providers",
    "add_provider",
    "set_provider_app",
    "remove_provider",
    "connect",
    "plan_url",
    "connect_url",
    "reconnect",
    "grant_access",
    "add_api_key",
    "test_connection",
    "rename_connection",
    "cancel_flow",
    "flow_end",
    "answer_flow",
    "refresh_connection",
    "remove_connection",
    "list_activity",
    "connection_activity",
    "ai_client_config",
    "pending_consents",
    "answer_consent",
    "allowed_programs",
    "revoke_program",
    "set_consent_policy",
    "require_app",
    "set_require_app",
    "start_at_login",
    "set_start_at_login",
    "first_screen_shown",
    "take_connection_to_show",
    "quit",
];

fn main() {
    // tauri-build watches tauri.conf.json and permissions/, not a custom capabilities
    // path: without this an edited capability would not reach the built app.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
