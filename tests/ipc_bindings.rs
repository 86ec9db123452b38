//! The window's TypeScript client, `ui/src/bindings.ts` (every command, event and type
//! that crosses IPC), is generated from the Rust command signatures and types. This test
//! fails when the committed file is stale; run it with `UPDATE_BINDINGS=1` to regenerate it.

use std::path::Path;

use specta_typescript::Typescript;

#[test]
fn ui_bindings_are_up_to_date() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings.ts");
    let scratch = tempfile::tempdir().unwrap();
    let generated = scratch.path().join("bindings.ts");
    grantkeeper_app::ipc::builder::<tauri::Wry>()
        .export(Typescript::default(), &generated)
        .expect("the TypeScript client exports");
    let text = std::fs::read_to_string(&generated).unwrap();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed, &text).unwrap();
    }
    assert!(
        std::fs::read_to_string(&committed).ok().as_deref() == Some(text.as_str()),
        "stale TypeScript client {}; run `UPDATE_BINDINGS=1 cargo test --features custom-protocol --test ipc_bindings`",
        committed.display()
    );
}
