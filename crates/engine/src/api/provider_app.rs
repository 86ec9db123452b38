//! Provider apps and custom providers as the window and the CLI see and change them.

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::catalog::{ClientAuth, Sources};
use crate::provider::{EndpointOverrides, Endpoints};
use crate::Timestamp;

/// A provider app (the person's client registration) on a built-in or custom
/// provider. The client secret is write-only: only its last four characters come back.
#[derive(Debug, Clone, Serialize, Type)]
pub struct Provider {
    pub id: String,
    pub name: String,
    /// From the built-in catalog (quirks known); false for a custom provider.
    pub builtin: bool,
    pub issuer: Option<String>,
    /// In use: the provider's own, with the site and the endpoints set by hand applied.
    #[serde(flatten)]
    pub endpoints: Endpoints,
    /// A custom provider's scopes.
    pub scopes: Vec<String>,
    pub client_id: String,
    /// Whether a client secret is stored.
    pub client_secret_set: bool,
    /// How token requests carry the client ID and secret.
    pub client_auth: ClientAuth,
    /// Its last four characters, for a secret long enough that they reveal little.
    pub client_secret_last4: Option<String>,
    /// A disabled provider app starts no sign-ins; its connections keep refreshing.
    pub enabled: bool,
    /// The read-only file an organisation supplied it in; None for the person's own.
    pub supplied_from: Option<String>,
    /// GitHub Enterprise URL, GitLab base URL or Microsoft tenant, where the provider has one.
    pub site: Option<String>,
    /// Which endpoints the person set by hand.
    pub overridden: Vec<String>,
    #[serde(flatten)]
    pub app_setup: AppSetup,
    pub docs_url: Option<String>,
    /// A catalog provider's documentation its entry follows, and when it was checked.
    pub sources: Option<Sources>,
    /// Connections that use this provider app.
    // Specta refuses `usize` (a JavaScript number cannot hold every one); a count fits.
    #[specta(type = u32)]
    pub connections: usize,
    /// Connections signed in before its site or endpoints changed: they keep using the
    /// earlier ones, and no token goes to the new address, until each is reconnected.
    pub on_previous_addresses: Vec<String>,
    /// Why it needs the person: the provider rejected its client ID or secret (the
    /// connections' tokens are kept until it is fixed).
    pub attention: Option<String>,
    pub created_at: Timestamp,
}

/// How to set up a provider app at its provider, as a catalog card and a provider app's
/// row show it. Worked out from the catalog entry alone (`ProviderSpec::app_setup`).
#[derive(Debug, Clone, Default, Serialize, Type)]
pub struct AppSetup {
    /// Steps to register the provider app, with the redirect URI filled in.
    pub setup: Vec<String>,
    /// The URI to register at the provider; None where nothing is registered (an API key).
    pub redirect_uri: Option<String>,
    /// Whether the provider app needs its client secret (a public client needs none).
    pub client_secret_required: bool,
    /// The provider's self-hosted or regional variant, when it has one.
    pub site_label: Option<String>,
    pub site_help: Option<String>,
}

/// Changes to a provider app. Absent fields keep their value; a blank client secret
/// keeps the stored one; a blank site or endpoint returns to the provider's own.
#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct ProviderAppInput {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretInput>,
    pub client_auth: Option<ClientAuth>,
    pub enabled: Option<bool>,
    pub site: Option<String>,
    /// The endpoints to set by hand; an empty one returns to the provider's own.
    #[serde(flatten)]
    pub endpoints: EndpointOverrides,
}

/// What a person enters to add a custom provider: an issuer (OpenID discovery) or
/// explicit authorize and token URLs.
#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct NewProvider {
    pub name: String,
    pub issuer: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: String,
    pub client_secret: Option<SecretInput>,
    /// None: what the server's metadata lists, else HTTP Basic.
    pub client_auth: Option<ClientAuth>,
    pub scopes: Vec<String>,
}

/// A secret typed by the person, on its way to the keychain; never echoed back.
#[derive(Clone, Deserialize, Type)]
#[serde(transparent)]
pub struct SecretInput(String);

impl SecretInput {
    pub fn into_secret(self) -> crate::Secret {
        crate::Secret::new(self.0)
    }
}

impl From<&str> for SecretInput {
    fn from(value: &str) -> Self {
        SecretInput(value.to_owned())
    }
}

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}
