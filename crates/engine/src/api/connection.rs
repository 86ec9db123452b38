//! A connection as the window, `list --json` and scripts see it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use specta::Type;
use strum::{AsRefStr, EnumString};

use super::ConsentPolicy;
use crate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type, AsRefStr, EnumString)]
#[serde(rename_all = "snake_case")]
// The store keeps the same text (strum) as the window and `--json` see (serde).
#[strum(serialize_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    Retrying,
    NeedsMoreAccess,
    Reauthorize,
    Pending,
}

/// One integration on one credential, as a person named it.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct Connection {
    pub id: String,
    pub name: String,
    /// The integration's id: a catalog id ("gmail") or a custom provider's id.
    pub integration: String,
    pub integration_name: String,
    pub provider: String,
    pub provider_id: String,
    pub status: ConnectionStatus,
    /// Why the connection needs the person, in plain words (Reauthorize).
    pub status_reason: Option<String>,
    pub account: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Scopes the integration needs that the credential lacks (Needs more access).
    pub missing_scopes: Vec<String>,
    /// RFC 3339.
    pub expires_at: Option<Timestamp>,
    pub last_refreshed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// When signing in again will be needed because the refresh token lapses, where the
    /// provider says (GitHub Apps: six months); the window warns ahead of time.
    pub refresh_token_expires_at: Option<Timestamp>,
    /// The other connections that use the same sign-in (credential): they share its
    /// tokens and its state, and removing this one keeps the grant for them.
    pub shared_with: Vec<String>,
    /// The URL it was connected by (an MCP server or an API, `connect --url`); its
    /// tokens are for this resource only.
    pub resource: Option<String>,
    /// How the token agent asks before a program gets its tokens.
    pub consent: ConsentPolicy,
    /// The programs the token agent gave its token to (executable paths), the most
    /// recent first, and when it last did.
    pub used_by: Vec<String>,
    pub last_handed_out_at: Option<Timestamp>,
    /// What the provider's token answer said about where to use the tokens, kept as the
    /// catalog names it (Salesforce: `instance_url`, the org's API address). Never a token.
    pub details: BTreeMap<String, String>,
}
