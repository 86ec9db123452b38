//! API keys as a person enters them, and what checking one found.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use specta::Type;

use super::SecretInput;

/// A key as the person enters it.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct NewApiKey {
    /// The connection's name; default: the integration's.
    pub name: Option<String>,
    /// Values by field id (`api_key`, `account_sid`, ...). Secret ones go to the keychain.
    pub fields: BTreeMap<String, SecretInput>,
    /// Another address for the API (a region, a compatible service); default: the catalog's.
    pub base_url: Option<String>,
    /// Check the key with the service before saving it.
    pub check: bool,
    /// Replace the key of this connection (name or id); it keeps its id.
    pub replace: Option<String>,
}

/// What a check found.
#[derive(Debug, Clone, Serialize, Type)]
pub struct CheckResult {
    pub connection: String,
    /// The account the provider answered for, when its answer names one.
    pub account: Option<String>,
    /// The check's address, for the person to see what was asked.
    pub url: String,
    /// The HTTP status (403) of a check the provider refused although it took the
    /// credential: a restricted key, or one without access to the check's endpoint.
    pub limited: Option<u16>,
}
