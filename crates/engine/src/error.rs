//! Engine errors: typed, readable by a person, and mapped to a stable wire code.
//! No variant ever carries a secret; provider messages are length-capped text.

use serde::{Deserialize, Serialize, Serializer};
use specta::datatype::DataType;
use specta::{Type, Types};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    InvalidInput { field: Option<&'static str>, message: String },

    #[error("No {what} named or numbered “{}”.", printable(key, 100))]
    NotFound { what: &'static str, key: String },

    #[error("{0}")]
    AlreadyExists(String),

    #[error("Could not read the server's configuration at {url}: {}. Check the issuer URL, or enter the authorize and token URLs instead.", clause(reason))]
    DiscoveryFailed { url: String, reason: String },

    #[error("The server's configuration at {url} says its issuer is “{found}”, not “{expected}”. Use the issuer URL exactly as the provider publishes it.")]
    IssuerMismatch { url: String, expected: String, found: String },

    #[error("{}", unreachable(host, reason, *answered))]
    ProviderUnreachable {
        host: String,
        reason: String,
        /// The status it answered with (5xx, 429), where it answered: it is there, but
        /// cannot answer now.
        answered: Option<u16>,
        /// How long the provider asked to be left alone (`Retry-After`), capped.
        retry_after: Option<std::time::Duration>,
    },

    #[error("{provider} answered with an error: {detail}")]
    ProviderError { provider: String, detail: String },

    #[error("You declined access at {provider}. Nothing was saved.")]
    AccessDenied { provider: String },

    #[error("You signed in as {found}, but this connection belongs to {expected}. Nothing was changed: sign in as {expected}, or connect {found} as a new connection.")]
    DifferentAccount { expected: String, found: String },

    #[error("Sign-in cancelled.")]
    FlowCancelled,

    #[error("The sign-in took longer than 15 minutes and was stopped. Try again.")]
    FlowExpired,

    #[error("The code expired before the sign-in was approved (it lasted {lasted}). Try again, and approve it sooner.")]
    DeviceCodeExpired { lasted: String },

    #[error("The system keychain is not available: {0}")]
    KeychainUnavailable(String),

    #[error("The access token of “{connection}” has expired and the provider gave no refresh token. Reconnect it.")]
    TokenExpired { connection: String },

    #[error(
        "“{connection}” needs to be reconnected: {}. Use Reconnect in the window or `grantkeeper reconnect`.",
        clause(reason)
    )]
    NeedsReauthorization { connection: String, reason: String },

    #[error(
        "“{connection}” needs a new key: {}. Paste one with `grantkeeper keys add {integration} --replace \"{connection}\" --key-stdin`.",
        clause(reason)
    )]
    KeyRefused { connection: String, integration: String, reason: String },

    #[error("{provider} rejected Grantkeeper's client credentials ({detail}). Check the provider app's client ID and secret; the tokens were kept.")]
    ProviderAppRejected { provider: String, detail: String },

    #[error("{provider} has no provider app yet. Register one at {provider} and add its client ID under Provider apps (or `grantkeeper providers set {provider_id} --client-id ID`).")]
    ProviderAppMissing { provider: String, provider_id: String },

    #[error("The provider app for {provider} is disabled. Enable it under Provider apps to sign in again.")]
    ProviderAppDisabled { provider: String },

    #[error("Could not listen on {address} for the sign-in to come back ({reason}). If another program uses that port, close it and try again.")]
    CallbackUnavailable { address: String, reason: String },

    #[error("{service} rejected this key (HTTP {status}). Check that you copied the whole key and that it is still active; nothing was saved.")]
    KeyRejected { service: String, status: u16 },

    #[error("“{connection}” was not granted {scopes}. Ask for it with `grantkeeper grant-access` or Grant access in the window.")]
    ScopesMissing { connection: String, scopes: String },

    #[error("Another process has held the refresh lock {path} for {waited:?}, so the refresh was not tried. Quit any stuck Grantkeeper (the app or a `grantkeeper` command), then try again.")]
    RefreshLocked { path: String, waited: std::time::Duration },

    #[error("The provider apps file {path}{} cannot be used: {}. Grantkeeper only reads it: ask whoever manages it to correct it. Nothing was changed.", line.map(|line| format!(" (line {line})")).unwrap_or_default(), clause(message))]
    SuppliedAppsInvalid { path: String, line: Option<usize>, message: String },

    #[error("Grantkeeper cannot connect {url}: {reason}")]
    ResourceUnusable { url: String, reason: String },

    #[error("{server} did not let Grantkeeper register itself as a client ({detail}). Register an app there yourself and add it with `grantkeeper providers add NAME --issuer {server} --client-id ID`, then connect the URL again.")]
    RegistrationRefused { server: String, detail: String },

    #[error("Denied by you: {program} may not use the token of “{connection}”. To let it, run it again and choose Allow in Grantkeeper.")]
    ConsentDenied { connection: String, program: String },

    #[error("{program} asked for the token of “{connection}”, and no answer came within {seconds} seconds. Run it again and answer in Grantkeeper's notification or window.")]
    ConsentTimedOut { connection: String, program: String, seconds: u64 },

    #[error("Grantkeeper hands out tokens only through its app, and the app could not be reached ({reason}). Start Grantkeeper, or turn off “Require the app” in its window.")]
    AgentUnavailable { reason: String },

    /// The agent was reached but the request went wrong (the app stopped before it
    /// answered, an answer not understood), or it could not start serving.
    #[error("Grantkeeper's token agent failed: {reason}.")]
    AgentFailed { reason: String },

    /// The running app's refusal, as the token agent sent it.
    #[error("{}", .0.message)]
    FromAgent(ErrorPayload),

    #[error("Grantkeeper's database at {path} could not be used: {reason}")]
    Storage { path: String, reason: String },

    #[error("Internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the UI and scripts branch on; never on message text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    AlreadyExists,
    DiscoveryFailed,
    IssuerMismatch,
    ProviderUnreachable,
    ProviderError,
    AccessDenied,
    DifferentAccount,
    FlowCancelled,
    FlowExpired,
    KeychainUnavailable,
    TokenExpired,
    NeedsReauthorization,
    ProviderAppRejected,
    ProviderAppMissing,
    ProviderAppDisabled,
    CallbackUnavailable,
    KeyRejected,
    ScopesMissing,
    RefreshLocked,
    SuppliedAppsInvalid,
    ResourceUnusable,
    RegistrationRefused,
    ConsentDenied,
    ConsentTimedOut,
    AgentUnavailable,
    AgentFailed,
    Storage,
    Internal,
}

/// The error as it crosses IPC: a code, a sentence, and the form field at fault.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
}

impl ErrorCode {
    /// The wire name, as serialized.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput { field: Some(field), message: message.into() }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidInput { .. } => ErrorCode::InvalidInput,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::AlreadyExists(_) => ErrorCode::AlreadyExists,
            Error::DiscoveryFailed { .. } => ErrorCode::DiscoveryFailed,
            Error::IssuerMismatch { .. } => ErrorCode::IssuerMismatch,
            Error::ProviderUnreachable { .. } => ErrorCode::ProviderUnreachable,
            Error::ProviderError { .. } => ErrorCode::ProviderError,
            Error::AccessDenied { .. } => ErrorCode::AccessDenied,
            Error::DifferentAccount { .. } => ErrorCode::DifferentAccount,
            Error::FlowCancelled => ErrorCode::FlowCancelled,
            Error::FlowExpired | Error::DeviceCodeExpired { .. } => ErrorCode::FlowExpired,
            Error::KeychainUnavailable(_) => ErrorCode::KeychainUnavailable,
            Error::TokenExpired { .. } => ErrorCode::TokenExpired,
            Error::NeedsReauthorization { .. } | Error::KeyRefused { .. } => ErrorCode::NeedsReauthorization,
            Error::ProviderAppRejected { .. } => ErrorCode::ProviderAppRejected,
            Error::ProviderAppMissing { .. } => ErrorCode::ProviderAppMissing,
            Error::ProviderAppDisabled { .. } => ErrorCode::ProviderAppDisabled,
            Error::CallbackUnavailable { .. } => ErrorCode::CallbackUnavailable,
            Error::KeyRejected { .. } => ErrorCode::KeyRejected,
            Error::ScopesMissing { .. } => ErrorCode::ScopesMissing,
            Error::RefreshLocked { .. } => ErrorCode::RefreshLocked,
            Error::SuppliedAppsInvalid { .. } => ErrorCode::SuppliedAppsInvalid,
            Error::ResourceUnusable { .. } => ErrorCode::ResourceUnusable,
            Error::RegistrationRefused { .. } => ErrorCode::RegistrationRefused,
            Error::ConsentDenied { .. } => ErrorCode::ConsentDenied,
            Error::ConsentTimedOut { .. } => ErrorCode::ConsentTimedOut,
            Error::AgentUnavailable { .. } => ErrorCode::AgentUnavailable,
            Error::AgentFailed { .. } => ErrorCode::AgentFailed,
            Error::FromAgent(payload) => payload.code,
            Error::Storage { .. } => ErrorCode::Storage,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The form field a person should fix, for errors about what they typed.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::InvalidInput { field, .. } => *field,
            Error::AlreadyExists(_) => Some("name"),
            Error::DiscoveryFailed { .. } | Error::IssuerMismatch { .. } => Some("issuer"),
            Error::ResourceUnusable { .. } => Some("url"),
            _ => None,
        }
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload { code: self.code(), message: self.to_string(), field: self.field().map(str::to_owned) }
    }
}

/// A command's error reaches the window as its payload.
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.payload().serialize(serializer)
    }
}

/// Typed as the payload it serializes to.
impl Type for Error {
    fn definition(types: &mut Types) -> DataType {
        ErrorPayload::definition(types)
    }
}

/// A provider out of reach, or there but unable to answer: only the first is the
/// person's network to check.
fn unreachable(host: &str, reason: &str, answered: Option<u16>) -> String {
    match answered {
        Some(429) => {
            format!("{host} is turning requests away for now (HTTP 429, too many requests). Try again later.")
        }
        Some(status) => format!("{host} could not answer now (HTTP {status}). Try again later."),
        None => format!(
            "Could not reach {host}: {}. Check your network connection and try again.",
            clause(reason)
        ),
    }
}

/// A reason that goes on within a sentence, without the full stop that would make it "..".
fn clause(reason: &str) -> &str {
    reason.trim_end_matches('.')
}

/// Provider-supplied text shown to a person: printable, single-line, capped.
pub(crate) fn provider_text(text: &str) -> String {
    printable(text, 300)
}

/// Text from outside shown to a person: printable, single-line, at most `limit`
/// characters. Control characters could drive the person's terminal (escape sequences)
/// and bidirectional overrides could make it read as something else, so each becomes a
/// space.
pub fn printable(text: &str, limit: usize) -> String {
    let cleaned: String = text.chars().map(|c| if misleads(c) { ' ' } else { c }).take(limit).collect();
    if text.chars().count() > limit {
        format!("{cleaned}…")
    } else {
        cleaned
    }
}

/// A control character, a bidirectional mark or override, or a character that shows
/// nothing (a zero-width space, a soft hyphen): shown as it is, it could drive a
/// terminal or make text read as something else ("Open\u{200b}AI" beside "OpenAI").
/// Joiners stay: emoji and some scripts need them.
pub(crate) fn misleads(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}' | '\u{180e}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    #[test]
    fn wire_names_match_serde() {
        // Serde and strum each derive the names from the variants: every one must agree.
        for &code in ErrorCode::VARIANTS {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn an_error_serializes_to_its_payload() {
        let error = Error::invalid("issuer", "Use https.");
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({ "code": "invalid_input", "message": "Use https.", "field": "issuer" })
        );
        assert_eq!(
            serde_json::to_value(Error::FlowCancelled).unwrap(),
            serde_json::json!({ "code": "flow_cancelled", "message": "Sign-in cancelled.", "field": null })
        );
    }

    #[test]
    fn a_name_not_found_is_shown_printable_and_capped() {
        let shown = |key: &str| Error::NotFound { what: "connection", key: key.into() }.to_string();
        assert_eq!(shown("Work\u{1b}[31m"), "No connection named or numbered “Work [31m”.");
        let long = shown(&"a".repeat(5000));
        assert!(long.ends_with(&format!("“{}…”.", "a".repeat(100))), "{long}");
    }

    #[test]
    fn provider_text_is_single_line_and_capped() {
        assert_eq!(provider_text("a\nb"), "a b");
        assert_eq!(provider_text("a\u{1b}]0;x\u{7}b\u{202e}c"), "a ]0;x b c");
        assert_eq!(provider_text(&"x".repeat(1000)).chars().count(), 301);
    }

    #[test]
    fn a_reason_within_a_sentence_has_no_full_stop_of_its_own() {
        let reason = "The endpoint must use https (plain http is allowed only for localhost).".to_owned();
        let shown = Error::SuppliedAppsInvalid { path: "/etc/x.toml".into(), line: Some(2), message: reason };
        assert!(shown.to_string().contains("for localhost). Grantkeeper only reads it"), "{shown}");
        let shown = Error::DiscoveryFailed { url: "https://a".into(), reason: "no token_endpoint".into() };
        assert!(shown.to_string().contains("no token_endpoint. Check"), "{shown}");
    }
}
