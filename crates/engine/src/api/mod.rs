//! Every type that crosses to the window (IPC, TypeScript generated from these) or to
//! the CLI and scripts (`list --json`). Nothing here is secret: a secret a person types
//! arrives as [`SecretInput`] and only goes on to the keychain.

mod activity;
mod agent;
mod ai_client;
mod api_key;
mod catalog;
mod connection;
mod engine_event;
mod flow;
mod provider_app;
mod removal;
mod resource_plan;

pub use activity::{ActivityEvent, EventKind};
pub use agent::{AllowedProgram, ConsentAnswer, ConsentPolicy, ConsentRequest, Program};
pub use ai_client::{AiClient, AiClientConfig};
pub use api_key::{CheckResult, NewApiKey};
pub use catalog::{CatalogIntegration, CatalogScope, IntegrationKind, KeyField};
pub use connection::{Connection, ConnectionStatus};
pub use engine_event::EngineEvent;
pub use flow::{ConnectOptions, FlowStarted};
pub use provider_app::{AppSetup, NewProvider, Provider, ProviderAppInput, SecretInput};
pub use removal::{Removal, Revocation};
pub use resource_plan::{ClientIdentity, ResourcePlan};

pub use crate::error::{ErrorCode, ErrorPayload};
