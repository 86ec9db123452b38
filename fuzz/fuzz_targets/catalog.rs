//! A catalog file (crates/engine/catalog.toml's format): TOML parsing into the schema,
//! then the validation build.rs runs.
#![no_main]

use grantkeeper_engine::fuzzing::catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = catalog(text);
});
