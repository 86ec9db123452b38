//! `grantkeeper mcp bridge CONNECTION`: a stdio MCP server that an AI client starts; it
//! forwards every JSON-RPC message to the MCP server the connection was made by URL to,
//! over the Streamable HTTP transport, with the connection's token. The client never
//! sees the token; stdout carries only JSON-RPC, diagnostics go to stderr.
//!
//! `bridge.rs` runs it, `forward.rs` and `listen.rs` carry messages, `remote.rs` speaks
//! HTTP to the server, `tokens.rs` is what it needs from Grantkeeper
//! (`connection_tokens.rs`: through the token agent, or the keychain).

mod bridge;
mod connection_tokens;
mod forward;
mod jsonrpc;
mod listen;
mod outbox;
mod remote;
mod session;
mod sse;
mod stdin;
mod text;
mod tokens;
mod www_authenticate;

use std::sync::Arc;

use grantkeeper_engine::{Engine, Error, Result};
use url::Url;

/// Bridges the AI client on stdin/stdout to the MCP server of connection `key`.
pub async fn bridge(engine: &Arc<Engine>, key: &str, no_agent: bool) -> Result<()> {
    let connection = engine.connection(key)?;
    let Some(resource) = connection.resource.as_deref() else {
        return Err(Error::InvalidInput {
            field: None,
            message: format!(
                "“{}” was not connected by URL; `grantkeeper connect --url URL` connects an MCP server.",
                connection.name
            ),
        });
    };
    let url = Url::parse(resource)
        .map_err(|e| Error::Internal(format!("the URL of “{}” cannot be used: {e}", connection.name)))?;
    let target = bridge::Target { url, name: connection.name.clone() };
    let route = crate::agent::route(engine, no_agent).await?;
    let tokens = connection_tokens::ConnectionTokens::new(engine.clone(), route, connection.id.clone());
    let stdin = stdin::read_lines(std::io::stdin(), bridge::LINE_LIMIT);
    bridge::run(target, tokens, remote::http_client()?, stdin, std::io::stdout()).await
}
