//! What connecting a URL will do, shown before the browser opens.

use serde::Serialize;
use specta::Type;

use crate::Timestamp;

/// How Grantkeeper will identify itself to the authorization server.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ClientIdentity {
    /// With the provider app of a provider the person added for that server.
    ProviderApp { provider: String, client_id: String },
    /// With the client ID an organisation supplied for that server, in `file`.
    Supplied { client_id: String, file: String },
    /// With the registration it made there earlier.
    Registered { client_id: String, registered_at: Timestamp },
    /// With the client ID metadata document this distribution publishes (its URL is the
    /// client ID).
    MetadataDocument { url: String },
    /// It will register itself (RFC 7591) as a native app, sending `metadata`.
    WillRegister { metadata: String },
    /// The server offers no registration and no provider app is set for it.
    NoneAvailable,
}

/// Who guards a URL and what signing in there will ask for.
#[derive(Debug, Clone, Serialize, Type)]
pub struct ResourcePlan {
    /// The resource, as its metadata names it.
    pub resource: String,
    /// The authorization server's issuer.
    pub authorization_server: String,
    /// The scopes the sign-in will ask for (none: the server's default).
    pub scopes: Vec<String>,
    pub identity: ClientIdentity,
}
