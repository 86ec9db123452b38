//! The built-in catalog as the catalog page and `grantkeeper catalog` show it.

use serde::Serialize;
use specta::Type;

use super::AppSetup;
use crate::catalog::Sources;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationKind {
    Oauth,
    ApiKey,
}

/// A scope as the catalog describes it: short name, the provider's string, plain words.
#[derive(Debug, Clone, Serialize, Type)]
pub struct CatalogScope {
    pub name: String,
    pub value: String,
    pub description: String,
}

/// A field a person fills in for an API-key integration.
#[derive(Debug, Clone, Serialize, Type)]
pub struct KeyField {
    pub id: String,
    pub label: String,
    /// Goes to the keychain and is never shown again.
    pub secret: bool,
    /// How the value starts, when the service documents it.
    pub prefix: Option<String>,
}

/// One entry of the built-in catalog, as the catalog page and `grantkeeper catalog`
/// show it.
#[derive(Debug, Clone, Serialize, Type)]
pub struct CatalogIntegration {
    pub id: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub docs_url: String,
    pub kind: IntegrationKind,
    /// The provider whose provider app it signs in with (Microsoft 365 for Azure
    /// DevOps, whose own catalog provider borrows that app).
    pub provider_id: Option<String>,
    pub provider_name: Option<String>,
    /// Whose mark its card shows: its own provider's (Azure DevOps's, though it signs in
    /// with Microsoft 365's provider app), or the API-key service's.
    pub mark: String,
    /// What it will be allowed to do.
    pub scopes: Vec<CatalogScope>,
    /// Setting up the provider app it signs in with; its steps end with the
    /// integration's own (enable its API in the same project).
    #[serde(flatten)]
    pub app_setup: AppSetup,
    /// The provider's documentation its catalog entry follows.
    pub sources: Option<Sources>,
    /// Where the provider app is registered (or, for an API key, created).
    pub console_url: Option<String>,
    pub key_create_url: Option<String>,
    pub key_fields: Vec<KeyField>,
    pub has_check: bool,
}
