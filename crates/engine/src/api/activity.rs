//! The activity log as the window and the CLI show it.

use serde::Serialize;
use specta::Type;
use strum::{AsRefStr, EnumString};

use crate::Timestamp;

/// What happened to a credential or connection: the activity log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type, AsRefStr, EnumString)]
#[serde(rename_all = "snake_case")]
// The store keeps the same text (strum) as the window and `--json` see (serde).
#[strum(serialize_all = "snake_case")]
pub enum EventKind {
    CredentialCreated,
    /// A new connection on a sign-in its account already had (the grant grew for it).
    ConnectionAdded,
    CredentialReauthorized,
    CredentialRefreshed,
    RefreshFailed,
    NeedsReauthorization,
    ConnectionRemoved,
    CredentialRevoked,
    RevocationFailed,
    /// The token agent gave a program a connection's token.
    TokenHandedOut,
    /// The person refused a program a connection's token, or did not answer in time.
    TokenRefused,
}

/// One entry of the activity log. Never holds a secret.
#[derive(Debug, Clone, Serialize, Type)]
pub struct ActivityEvent {
    pub id: String,
    /// RFC 3339.
    pub at: Timestamp,
    pub kind: EventKind,
    /// The connection(s) it is about, by name.
    pub subject: Option<String>,
    /// The cause, in plain words (refresh failures, reauthorization).
    pub detail: Option<String>,
    /// The program a token went to (its executable's path), for hand-outs.
    pub program: Option<String>,
}
