//! Starting a sign-in, as the window and the CLI ask for it and see it begin.

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::Timestamp;

/// How to connect: all optional.
#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct ConnectOptions {
    /// The connection's name; default: the integration's.
    pub name: Option<String>,
    /// The account to sign in with (email or login), passed to the provider as a hint.
    pub account: Option<String>,
    /// Scopes beyond what the integration needs, by short name.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Sign in by code on any device (RFC 8628) instead of in this machine's browser.
    #[serde(default)]
    pub device: bool,
}

/// A running authorization attempt, as the UI sees it.
#[derive(Debug, Clone, Serialize, Type)]
pub struct FlowStarted {
    pub flow_id: String,
    pub provider_id: String,
    /// Who the person signs in with, as the window names it.
    pub provider_name: String,
    /// The provider's authorize URL, for "Copy link" when the browser did not open; for
    /// a sign-in by code, the provider's page to enter `user_code` on.
    pub authorize_url: String,
    /// The code to type on the provider's page (device authorization grant).
    pub user_code: Option<String>,
    pub expires_at: Timestamp,
    /// Why the browser could not be opened on `authorize_url` (no browser command, one
    /// that could not start): the person opens the link by hand.
    pub browser_error: Option<String>,
}
