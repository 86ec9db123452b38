//! Grantkeeper's engine: custom providers, authorization flows, the keychain vault and
//! the SQLite store. The desktop shell and the CLI are thin layers over [`Engine`];
//! nothing here depends on Tauri.

pub mod api_keys;
mod apps;
pub mod catalog;
pub mod check;
mod config;
pub mod connect;
mod engine;
pub mod error;
mod events;
pub mod flow;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod git_credentials;
mod http;
mod integrations;
pub mod model;
pub mod provider;
mod refresh;
pub mod revoke;
mod schedule;
mod secret;
pub mod store;
mod system_signals;
mod time_text;
pub mod vault;
mod watch;

pub use config::Config;
pub use engine::Engine;
pub use error::{Error, ErrorCode, ErrorPayload, Result};
pub use events::EngineEvent;
pub use model::{ActivityEvent, Connection, ConnectionStatus, EventKind, FlowStarted, NewProvider, Provider};
pub use secret::Secret;
pub use vault::{Keychain, SecretStore};
pub use watch::DatabaseWatch;
