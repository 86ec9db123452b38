//! The configuration an AI client needs to use a connection made by URL through
//! `grantkeeper mcp bridge`.

use serde::{Deserialize, Serialize};
use specta::Type;
use strum::{AsRefStr, EnumString, VariantArray};

/// The MCP clients Grantkeeper writes configuration for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type, AsRefStr, EnumString, VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum AiClient {
    ClaudeDesktop,
    ClaudeCode,
    Vscode,
    Cursor,
}

/// What to put where, for one client.
#[derive(Debug, Clone, Serialize, Type)]
pub struct AiClientConfig {
    pub client: AiClient,
    /// Where it goes, in a person's words ("claude_desktop_config.json, under mcpServers").
    pub place: String,
    /// The exact text: a JSON object to merge, or a command to run.
    pub snippet: String,
}
