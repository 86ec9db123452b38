//! Providers: resolving built-in and custom ones for use, and checking what a person
//! typed for a custom one.

mod apps;
mod discovery;
mod endpoints;
mod record;
mod supplied;
mod urls;

pub use discovery::{discover, Discovered};
pub use endpoints::{EndpointField, EndpointOverrides, Endpoints, ENDPOINT_FIELDS};
pub use record::{catalog_spec, check_site, ProviderRecord, SignedInAddresses};
pub use supplied::{supplied_apps, supplied_for_server, SUPPLIED_APPS_FILE};
pub use urls::{authorize_endpoint, client_id_document_url, issuer_url, provider_url, UrlCheck};

use crate::api::{NewProvider, SecretInput};
use crate::{Error, Result, Secret};

const NAME_LIMIT: usize = 64;
const CLIENT_ID_LIMIT: usize = 512;
const CLIENT_SECRET_LIMIT: usize = 2048;

/// The parts of a [`NewProvider`] that need no network to check.
pub enum EndpointsInput {
    Issuer(url::Url),
    Manual { authorize_url: url::Url, token_url: url::Url },
}

pub struct CheckedProvider {
    pub name: String,
    pub endpoints: EndpointsInput,
    pub client_id: String,
    pub scopes: Vec<String>,
}

pub fn check(input: &NewProvider) -> Result<CheckedProvider> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "Give the provider a name, for example “Company SSO”."));
    }
    if name.chars().count() > NAME_LIMIT || name.chars().any(crate::error::misleads) {
        return Err(Error::invalid(
            "name",
            format!("The name must be at most {NAME_LIMIT} printable characters."),
        ));
    }
    let endpoints = match (given(&input.issuer), given(&input.authorize_url), given(&input.token_url)) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(Error::invalid(
                "issuer",
                "Enter either an issuer URL or the authorize and token URLs, not both.",
            ))
        }
        (Some(issuer), None, None) => EndpointsInput::Issuer(issuer_url("issuer", "issuer URL", issuer)?),
        (None, None, None) => {
            return Err(Error::invalid(
                "issuer",
                "Enter the provider's issuer URL, or its authorize and token URLs.",
            ))
        }
        (None, authorize, token) => EndpointsInput::Manual {
            authorize_url: authorize_endpoint("authorize_url", "authorize URL", authorize.unwrap_or(""))?,
            token_url: provider_url("token_url", "token URL", token.unwrap_or(""))?,
        },
    };
    let client_id = input.client_id.trim();
    if client_id.is_empty() {
        return Err(Error::invalid(
            "client_id",
            "Enter the client ID of the app you registered at the provider.",
        ));
    }
    Ok(CheckedProvider {
        name: name.to_owned(),
        endpoints,
        client_id: check_client_id(client_id)?,
        scopes: check_scopes(&input.scopes)?,
    })
}

/// A client ID as typed (trimmed, not blank): printable, and no longer than any
/// provider's.
pub(crate) fn check_client_id(client_id: &str) -> Result<String> {
    if client_id.chars().any(crate::error::misleads) || client_id.len() > CLIENT_ID_LIMIT {
        return Err(Error::invalid(
            "client_id",
            format!("The client ID must be at most {CLIENT_ID_LIMIT} printable characters."),
        ));
    }
    Ok(client_id.to_owned())
}

/// A client secret as typed; None when blank (keep the stored one, or none). Trimmed,
/// it is what RFC 6749 allows a secret to be (printable ASCII, Appendix A) and no longer
/// than any provider's: anything else is a slip of the paste, refused before the
/// keychain sees it.
pub(crate) fn check_client_secret(secret: Option<SecretInput>) -> Result<Option<Secret>> {
    let Some(secret) = secret.map(SecretInput::into_secret) else { return Ok(None) };
    let trimmed = secret.expose().trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.len() > CLIENT_SECRET_LIMIT || !trimmed.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(Error::invalid(
            "client_secret",
            format!(
                "A client secret is one line of at most {CLIENT_SECRET_LIMIT} letters, digits and symbols; check what you pasted."
            ),
        ));
    }
    Ok(Some(Secret::new(trimmed)))
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Scope tokens as RFC 6749 §3.3 allows them; duplicates dropped, order kept.
pub fn check_scopes(scopes: &[String]) -> Result<Vec<String>> {
    let mut checked: Vec<String> = Vec::new();
    for scope in scopes.iter().flat_map(|s| s.split_whitespace()) {
        let allowed = |c: char| c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c);
        if !scope.chars().all(allowed) {
            return Err(Error::invalid(
                "scopes",
                "Scopes are separated by spaces and may not contain quotes, backslashes or other special characters.",
            ));
        }
        if !checked.iter().any(|s| s == scope) {
            checked.push(scope.to_owned());
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewProvider {
        NewProvider {
            name: "Local".into(),
            issuer: Some("http://127.0.0.1:9999".into()),
            client_id: "client".into(),
            scopes: vec!["openid email".into()],
            ..NewProvider::default()
        }
    }

    #[test]
    fn accepts_issuer_or_manual_endpoints() {
        let checked = check(&input()).unwrap();
        assert_eq!(checked.scopes, ["openid", "email"]);
        let manual = NewProvider {
            issuer: None,
            authorize_url: Some("https://example.com/authorize".into()),
            token_url: Some("https://example.com/token".into()),
            ..input()
        };
        assert!(matches!(check(&manual).unwrap().endpoints, EndpointsInput::Manual { .. }));
    }

    #[test]
    fn names_the_field_at_fault() {
        let field = |input: NewProvider| check(&input).err().and_then(|e| e.field());
        assert_eq!(field(NewProvider { name: " ".into(), ..input() }), Some("name"));
        assert_eq!(field(NewProvider { client_id: "".into(), ..input() }), Some("client_id"));
        assert_eq!(field(NewProvider { issuer: None, ..input() }), Some("issuer"));
        assert_eq!(
            field(NewProvider { issuer: None, authorize_url: Some("https://a.example/x".into()), ..input() }),
            Some("token_url")
        );
        assert_eq!(field(NewProvider { scopes: vec!["a\"b".into()], ..input() }), Some("scopes"));
    }

    #[test]
    fn a_client_secret_is_trimmed_and_one_printable_line() {
        let checked =
            |secret: &str| check_client_secret(Some(secret.into())).map(|s| s.map(|s| s.expose().to_owned()));
        assert_eq!(checked(" GOCSPX-a~b.c \n").unwrap().as_deref(), Some("GOCSPX-a~b.c"));
        assert_eq!(checked("  ").unwrap(), None, "blank keeps the stored one");
        for pasted in ["two\nlines", "tab\there", "nul\0", "caf\u{e9}", &"x".repeat(CLIENT_SECRET_LIMIT + 1)]
        {
            let error = checked(pasted).unwrap_err();
            assert_eq!(error.field(), Some("client_secret"));
            assert!(!error.to_string().contains(pasted), "the secret is not echoed: {error}");
        }
    }
}
