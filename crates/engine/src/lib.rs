//! Grantkeeper's engine: providers, authorization flows, the credential lifecycle, the
//! keychain vault and the SQLite store. The desktop shell and the CLI are thin layers
//! over [`Engine`]; nothing here depends on Tauri.

pub mod agent;
pub mod api;
pub mod catalog;
mod config;
pub mod credential;
pub mod data_dir;
mod engine;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod git_credentials;
mod http;
mod integration;
pub mod logging;
pub mod oauth;
pub mod provider;
pub mod resource;
mod runtime;
mod secret;
pub mod store;
mod timestamp;
pub mod vault;

pub use api::{
    ActivityEvent, Connection, ConnectionStatus, EngineEvent, EventKind, FlowStarted, NewProvider, Provider,
};
pub use config::{Config, REFRESH_LOCK_WAIT};
pub use engine::Engine;
pub use error::{Error, ErrorCode, ErrorPayload, Result};
pub use runtime::DatabaseWatch;
pub use secret::Secret;
pub use timestamp::Timestamp;
pub use vault::{Keychain, SecretStore};
