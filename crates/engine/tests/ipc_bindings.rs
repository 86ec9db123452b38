//! The UI's TypeScript types are generated from the Rust types that cross IPC. This
//! test fails when the committed files in ui/src/bindings are stale; run it with
//! `UPDATE_BINDINGS=1` to regenerate them.

use std::path::PathBuf;

use grantkeeper_engine::api::CheckResult;
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::api::NewApiKey;
use grantkeeper_engine::api::{
    CatalogIntegration, CatalogScope, IntegrationKind, KeyField, ProviderAppInput,
};
use grantkeeper_engine::api::{Removal, Revocation};
use grantkeeper_engine::{
    ActivityEvent, Connection, ConnectionStatus, EngineEvent, ErrorCode, ErrorPayload, EventKind,
    FlowStarted, NewProvider, Provider,
};
use ts_rs::{Config, TS};

fn generated() -> Vec<(String, String)> {
    fn one<T: TS + 'static>(config: &Config) -> (String, String) {
        let text = T::export_to_string(config).expect("type exports");
        (format!("{}.ts", T::name(config)), text)
    }
    let config = Config::new();
    vec![
        one::<Connection>(&config),
        one::<ConnectionStatus>(&config),
        one::<Provider>(&config),
        one::<NewProvider>(&config),
        one::<FlowStarted>(&config),
        one::<ErrorCode>(&config),
        one::<ErrorPayload>(&config),
        one::<EngineEvent>(&config),
        one::<ActivityEvent>(&config),
        one::<EventKind>(&config),
        one::<ConnectOptions>(&config),
        one::<ProviderAppInput>(&config),
        one::<CatalogIntegration>(&config),
        one::<CatalogScope>(&config),
        one::<IntegrationKind>(&config),
        one::<KeyField>(&config),
        one::<Removal>(&config),
        one::<Revocation>(&config),
        one::<NewApiKey>(&config),
        one::<CheckResult>(&config),
    ]
}

#[test]
fn ui_bindings_are_up_to_date() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings");
    let update = std::env::var_os("UPDATE_BINDINGS").is_some();
    let mut stale = Vec::new();
    for (file, text) in generated() {
        let path = dir.join(&file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale TypeScript bindings {stale:?}; run `UPDATE_BINDINGS=1 cargo test -p grantkeeper-engine --test ipc_bindings`"
    );
}
