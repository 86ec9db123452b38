//! Resources: URLs guarded by OAuth that a person connects directly, an MCP server or an
//! API, following the MCP authorization specification: protected resource metadata
//! (RFC 9728), authorization server metadata (RFC 8414), a client identity without an
//! app to register where the server allows (RFC 7591), and tokens bound to the resource
//! (RFC 8707, sent by `oauth/` wherever `ProviderRecord::resource` is set).

mod access;
mod ai_clients;
mod client;
mod connect;
mod metadata;
mod registration;

pub(crate) use client::registration_of;
pub use metadata::FoundResource;
pub use registration::client_metadata_document;
