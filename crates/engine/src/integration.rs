//! Integrations: what a person connects (a catalog entry, or a custom provider as its
//! own integration), the scopes each needs, and whether a credential covers them.

use crate::api::Connection;
use crate::catalog::{Catalog, ProviderSpec};
use crate::credential::shown_status;
use crate::error::printable;
use crate::provider::{check_scopes, ProviderRecord};
use crate::{Engine, Error, Result};

/// A resolved "connect X".
pub(crate) struct Target {
    pub integration_id: String,
    pub integration_name: String,
    pub provider: ProviderRecord,
    /// What the integration needs (plus extras asked for), as the provider spells them.
    pub needed: Vec<String>,
}

impl Engine {
    pub(crate) fn target(&self, key: &str, extra_scopes: &[String]) -> Result<Target> {
        let catalog = Catalog::builtin();
        if let Some((id, spec)) = catalog.integration(key) {
            let Some(provider_id) = &spec.provider else {
                return Err(Error::InvalidInput {
                    field: None,
                    message: format!(
                        "{} uses an API key, not a sign-in. Add the key instead (`grantkeeper keys add {id} --key-stdin`).",
                        spec.name
                    ),
                });
            };
            // Unknown scopes are refused before anything else, provider app or not.
            let provider_spec = catalog.provider(provider_id).expect("build.rs checked the reference");
            let needed = scope_values(provider_spec, spec.scopes.iter().chain(extra_scopes))?;
            return Ok(Target {
                integration_id: id.to_owned(),
                integration_name: spec.name.clone(),
                provider: self.provider_record(provider_id)?,
                needed,
            });
        }
        if let Some(custom) = self.store.custom_provider(key)? {
            let provider = self.provider_record(&custom.id)?;
            let needed = check_scopes(&[provider.scopes.clone(), extra_scopes.to_vec()].concat())?;
            return Ok(Target { integration_id: custom.id, integration_name: custom.name, provider, needed });
        }
        if let Some((provider_id, provider)) = catalog
            .providers()
            .find(|(id, p)| id.eq_ignore_ascii_case(key) || p.name.eq_ignore_ascii_case(key))
        {
            let names: Vec<&str> =
                catalog.integrations_of(provider_id).map(|(_, i)| i.name.as_str()).collect();
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "{} is a provider; connect one of its integrations: {}.",
                    provider.name,
                    names.join(", ")
                ),
            });
        }
        Err(Error::NotFound { what: "integration", key: key.trim().to_owned() })
    }

    /// The integration's name and the scopes it needs (as the provider spells them).
    /// A custom provider's requested scopes are not all reported back by every
    /// provider, so they count as needs of nobody.
    pub(crate) fn integration_needs(&self, integration_id: &str) -> (Option<String>, Vec<String>) {
        let catalog = Catalog::builtin();
        let Some(spec) = catalog.integration_by_id(integration_id) else {
            // A resource needs what its server asked for beyond the grant.
            let resource = self.store.resource(integration_id).ok().flatten();
            return (None, resource.map(|r| r.needed_scopes).unwrap_or_default());
        };
        let needed = spec
            .provider
            .as_deref()
            .and_then(|p| catalog.provider(p))
            .map(|p| spec.scopes.iter().filter_map(|s| p.scope_value(s)).map(String::from).collect())
            .unwrap_or_default();
        (Some(spec.name.clone()), needed)
    }

    /// Refuses when the connection's grant lacks one of `scopes` (short catalog names or
    /// the provider's strings): a script asking for access the person never gave.
    pub fn require_scopes(&self, key: &str, scopes: &[String]) -> Result<()> {
        let connection = self.connection(key)?;
        let catalog = Catalog::builtin();
        let api_key = catalog.integration_by_id(&connection.integration).is_some_and(|i| i.api_key.is_some());
        if api_key && !scopes.is_empty() {
            return Err(Error::invalid(
                "scopes",
                format!(
                    "“{}” is an API key, which has no scopes to require; leave them out.",
                    connection.name
                ),
            ));
        }
        let missing = not_granted(&connection, scopes);
        if missing.is_empty() {
            return Ok(());
        }
        // What a script asked for, shown as text that cannot drive a terminal.
        let scopes = crate::error::printable(&missing.join(", "), 1000);
        Err(Error::ScopesMissing { connection: connection.name, scopes })
    }

    /// Which of `scopes` (short catalog names or the provider's strings) the connection's
    /// grant lacks, as given: after a sign-in, what the provider left out of what was asked.
    pub fn scopes_not_granted(&self, key: &str, scopes: &[String]) -> Result<Vec<String>> {
        Ok(not_granted(&self.connection(key)?, scopes))
    }

    /// Fills in what the catalog knows about a stored connection: names, the scopes
    /// its integration lacks, and the status it shows.
    pub(crate) fn decorate(&self, mut connection: Connection) -> Connection {
        let (name, needed) = self.integration_needs(&connection.integration);
        connection.integration_name = name.unwrap_or_else(|| connection.provider.clone());
        if let Some(provider) = Catalog::builtin().provider(&connection.provider_id) {
            connection.provider = provider.name.clone();
        } else if connection.provider.is_empty() {
            // An API-key service is its own provider.
            connection.provider = connection.integration_name.clone();
        }
        connection.missing_scopes =
            needed.into_iter().filter(|scope| !is_granted(scope, &connection.scopes)).collect();
        connection.status = shown_status(connection.status, &connection.missing_scopes);
        connection
    }
}

/// Full scope strings for short names (each given one may hold several, separated by
/// spaces, as scopes are everywhere else), refusing any the provider does not have.
fn scope_values<'a>(
    provider: &ProviderSpec,
    short_names: impl Iterator<Item = &'a String>,
) -> Result<Vec<String>> {
    let mut values = Vec::new();
    for short in short_names.flat_map(|names| names.split_whitespace()) {
        let Some(value) = provider.scope_value(short) else {
            let known: Vec<&str> = provider.scopes.keys().map(String::as_str).collect();
            return Err(Error::invalid(
                "scopes",
                format!(
                    "{} has no scope “{}”. Its scopes are: {}.",
                    provider.name,
                    printable(short, 100),
                    known.join(", ")
                ),
            ));
        };
        values.push(value.to_owned());
    }
    Ok(union(&[], &values))
}

/// Which of `scopes` (several may share a string, space-separated) the grant lacks.
fn not_granted(connection: &Connection, scopes: &[String]) -> Vec<String> {
    let spec = Catalog::builtin().provider(&connection.provider_id);
    let scopes = scopes.iter().flat_map(|scope| scope.split_whitespace());
    scopes
        .filter(|scope| {
            let value = spec.and_then(|p| p.scope_value(scope)).unwrap_or(scope);
            !is_granted(value, &connection.scopes)
        })
        .map(String::from)
        .collect()
}

/// Is `needed` among the granted scopes? Some providers report a resource's scopes
/// without the resource prefix (Microsoft Graph: `Mail.Read` for
/// `https://graph.microsoft.com/Mail.Read`). Microsoft answers a resource's `.default`
/// with the permissions granted on it (`…/user_impersonation`): any of them is it.
fn is_granted(needed: &str, granted: &[String]) -> bool {
    let default_of = needed.strip_suffix("/.default");
    granted.iter().any(|g| {
        g == needed
            || (needed.starts_with("https://")
                && needed.rsplit('/').next().is_some_and(|last| last.eq_ignore_ascii_case(g)))
            || default_of.is_some_and(|resource| {
                g.strip_prefix(resource)
                    .is_some_and(|permission| permission.len() > 1 && permission.starts_with('/'))
            })
    })
}

/// `a` followed by what `b` adds, without duplicates.
pub(crate) fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut all: Vec<String> = Vec::with_capacity(a.len() + b.len());
    for scope in a.iter().chain(b) {
        if !all.contains(scope) {
            all.push(scope.clone());
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_given_together_are_split_and_unknown_ones_shown_safely() {
        let google = Catalog::builtin().provider("google").unwrap();
        let given = ["gmail.send  drive".to_owned(), "drive".to_owned()];
        let values = scope_values(google, given.iter()).unwrap();
        assert_eq!(
            values,
            ["https://www.googleapis.com/auth/gmail.send", "https://www.googleapis.com/auth/drive"]
        );
        let hostile = ["gmail.send\u{1b}[2J".to_owned()];
        let error = scope_values(google, hostile.iter()).unwrap_err();
        assert_eq!(error.field(), Some("scopes"));
        assert!(error.to_string().contains("no scope “gmail.send [2J”"), "{error}");
    }

    #[test]
    fn a_permission_on_a_resource_grants_its_default_scope() {
        let default = "499b84ac-1321-427f-aa17-267ca6975798/.default";
        let granted = vec!["499b84ac-1321-427f-aa17-267ca6975798/user_impersonation".to_owned()];
        assert!(is_granted(default, &granted));
        assert!(!is_granted(default, &["openid".to_owned(), "User.Read".to_owned()]));
        assert!(!is_granted(default, &["499b84ac-1321-427f-aa17-267ca6975798/".to_owned()]));
    }

    #[test]
    fn prefixless_graph_scopes_count_as_granted() {
        let granted = vec!["Mail.Read".to_owned(), "openid".to_owned()];
        assert!(is_granted("https://graph.microsoft.com/Mail.Read", &granted));
        assert!(!is_granted("https://graph.microsoft.com/Files.Read", &granted));
        assert!(is_granted("openid", &granted));
    }

    #[test]
    fn unknown_short_scopes_are_refused_with_the_known_ones() {
        let google = Catalog::builtin().provider("google").unwrap();
        let error =
            scope_values(google, ["calendar.readonly".to_owned(), "calendar.everything".to_owned()].iter())
                .unwrap_err();
        assert_eq!(error.field(), Some("scopes"));
        assert!(error.to_string().contains("no scope “calendar.everything”"), "{error}");
        let values = scope_values(google, ["gmail.readonly".to_owned()].iter()).unwrap();
        assert_eq!(values, ["https://www.googleapis.com/auth/gmail.readonly"]);
    }
}
