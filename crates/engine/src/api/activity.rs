//! The activity log as the window and the CLI show it.

use serde::Serialize;
use specta::Type;

/// What happened to a credential or connection: the activity log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    CredentialCreated,
    CredentialReauthorized,
    CredentialRefreshed,
    RefreshFailed,
    NeedsReauthorization,
    ConnectionRemoved,
    CredentialRevoked,
    RevocationFailed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CredentialCreated => "credential_created",
            EventKind::CredentialReauthorized => "credential_reauthorized",
            EventKind::CredentialRefreshed => "credential_refreshed",
            EventKind::RefreshFailed => "refresh_failed",
            EventKind::NeedsReauthorization => "needs_reauthorization",
            EventKind::ConnectionRemoved => "connection_removed",
            EventKind::CredentialRevoked => "credential_revoked",
            EventKind::RevocationFailed => "revocation_failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::CredentialCreated,
            Self::CredentialReauthorized,
            Self::CredentialRefreshed,
            Self::RefreshFailed,
            Self::NeedsReauthorization,
            Self::ConnectionRemoved,
            Self::CredentialRevoked,
            Self::RevocationFailed,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// One entry of the activity log. Never holds a secret.
#[derive(Debug, Clone, Serialize, Type)]
pub struct ActivityEvent {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    pub kind: EventKind,
    /// The connection(s) it is about, by name.
    pub subject: Option<String>,
    /// The cause, in plain words (refresh failures, reauthorization).
    pub detail: Option<String>,
}
