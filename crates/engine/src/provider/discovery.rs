//! Finding a server's endpoints from its issuer: OpenID Connect discovery (Discovery
//! 1.0 §4) and OAuth 2.0 authorization server metadata (RFC 8414), both read and merged,
//! since an OpenID configuration may leave out endpoints (revocation, device sign-in)
//! that the OAuth metadata lists. Each document must name the issuer asked for
//! (Discovery §4.3, RFC 8414 §3.3).

use serde::Deserialize;
use url::Url;

use crate::http::{host_of, HttpClient, HttpError};
use crate::{Error, Result};

use super::urls::{authorize_endpoint, provider_url, UrlCheck};
use super::Endpoints;

/// What an issuer's configuration says.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub issuer: String,
    pub endpoints: Endpoints,
    /// It promises `iss` in every authorization response (RFC 9207 §3).
    pub issuer_in_responses: bool,
    /// What it signs ID tokens with (`id_token_signing_alg_values_supported`).
    pub id_token_algorithms: Vec<String>,
    /// How its token endpoint takes client credentials
    /// (`token_endpoint_auth_methods_supported`); empty when it does not say.
    pub client_auth_methods: Vec<String>,
    /// Its PKCE methods (`code_challenge_methods_supported`); None when it does not say.
    pub pkce_methods: Option<Vec<String>>,
    /// Where a client may register itself (RFC 7591).
    pub registration_url: Option<String>,
    /// It takes a client ID metadata document's URL as a client ID.
    pub client_id_metadata_documents: bool,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
    revocation_endpoint: Option<String>,
    jwks_uri: Option<String>,
    device_authorization_endpoint: Option<String>,
    code_challenge_methods_supported: Option<Vec<String>>,
    registration_endpoint: Option<String>,
    #[serde(default)]
    client_id_metadata_document_supported: bool,
}

/// The issuer's endpoints from its OpenID configuration, with what its OAuth metadata
/// adds; either document alone will do.
pub async fn discover(http: &HttpClient, issuer: &Url) -> Result<Discovered> {
    let (openid_urls, oauth_url) = (openid_configuration_urls(issuer)?, oauth_metadata_url(issuer));
    let (openid, oauth) = tokio::join!(first_of(http, issuer, &openid_urls), fetch(http, issuer, &oauth_url));
    let mismatch = |error: &Error| matches!(error, Error::IssuerMismatch { .. });
    // A document naming another issuer is not used (RFC 8414 §3.3); another that names
    // this one still is. Where none will do, a mismatch is the error to tell; else what
    // each place said, since either may hold the document the server meant to publish.
    match (openid, oauth) {
        (Ok(openid), Ok(oauth)) => Ok(openid.merged_with(oauth)),
        (Ok(found), Err(_)) | (Err(_), Ok(found)) => Ok(found),
        (Err(_), Err(error)) | (Err(error), Err(_)) if mismatch(&error) => Err(error),
        (Err(openid), Err(oauth)) => Err(Error::DiscoveryFailed {
            url: issuer.to_string(),
            reason: format!("{}; {}", where_and_why(openid), where_and_why(oauth)),
        }),
    }
}

/// A failed read of one metadata document, with its address.
fn where_and_why(error: Error) -> String {
    match error {
        Error::DiscoveryFailed { url, reason } => format!("{url}: {reason}"),
        other => other.to_string(),
    }
}

/// One metadata document, read from `url`.
async fn fetch(http: &HttpClient, issuer: &Url, url: &Url) -> Result<Discovered> {
    let failed = |reason: String| Error::DiscoveryFailed { url: url.to_string(), reason };
    let (status, body) = http.get_json(url, None).await.map_err(|e| match e {
        HttpError::NotSent(reason) | HttpError::Transport(reason) => {
            failed(format!("{} did not answer ({reason})", host_of(url)))
        }
        HttpError::TooLarge | HttpError::Unavailable { .. } => failed(e.to_string()),
    })?;
    if status != 200 {
        return Err(failed(format!("the server answered HTTP {status}")));
    }
    endpoints_of(issuer, url, &body)
}

/// The first OpenID configuration found at `urls` that names `issuer`, tried in order
/// (a server may answer the first place with another issuer's); failing that, the
/// mismatch if there was one, else the last error.
async fn first_of(http: &HttpClient, issuer: &Url, urls: &[Url]) -> Result<Discovered> {
    let (mut mismatch, mut last) = (None, None);
    for url in urls {
        match fetch(http, issuer, url).await {
            Ok(found) => return Ok(found),
            Err(error @ Error::IssuerMismatch { .. }) => mismatch = mismatch.or(Some(error)),
            Err(error) => last = Some(error),
        }
    }
    Err(mismatch.or(last).expect("at least one URL"))
}

/// Where an issuer's OpenID configuration may be: for an issuer with a path, the
/// well-known segment after the host (as RFC 8414 places it, which the MCP
/// specification tries first), then after the path (Discovery §4.1).
fn openid_configuration_urls(issuer: &Url) -> Result<Vec<Url>> {
    let appended = openid_configuration_url(issuer)?;
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() {
        return Ok(vec![appended]);
    }
    let mut inserted = issuer.clone();
    inserted.set_path(&format!("/.well-known/openid-configuration{path}"));
    inserted.set_query(None);
    Ok(vec![inserted, appended])
}

fn openid_configuration_url(issuer: &Url) -> Result<Url> {
    let issuer_text = issuer.as_str().trim_end_matches('/');
    Url::parse(&format!("{issuer_text}/.well-known/openid-configuration"))
        .map_err(|_| Error::invalid("issuer", "The issuer URL cannot be used for discovery."))
}

/// RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
fn oauth_metadata_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    let path = issuer.path().trim_end_matches('/');
    url.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    url.set_query(None);
    url
}

impl Discovered {
    /// This document's values, with the endpoints only `other` names added.
    fn merged_with(mut self, other: Discovered) -> Discovered {
        let endpoints = &mut self.endpoints;
        endpoints.userinfo_url = endpoints.userinfo_url.take().or(other.endpoints.userinfo_url);
        endpoints.revocation_url = endpoints.revocation_url.take().or(other.endpoints.revocation_url);
        endpoints.jwks_url = endpoints.jwks_url.take().or(other.endpoints.jwks_url);
        endpoints.device_authorization_url =
            endpoints.device_authorization_url.take().or(other.endpoints.device_authorization_url);
        self.issuer_in_responses |= other.issuer_in_responses;
        if self.client_auth_methods.is_empty() {
            self.client_auth_methods = other.client_auth_methods;
        }
        self.pkce_methods = self.pkce_methods.or(other.pkce_methods);
        self.registration_url = self.registration_url.or(other.registration_url);
        self.client_id_metadata_documents |= other.client_id_metadata_documents;
        self
    }
}

/// The endpoints named by the metadata document `body` that `issuer` served at `url`.
fn endpoints_of(issuer: &Url, url: &Url, body: &[u8]) -> Result<Discovered> {
    let issuer_text = issuer.as_str().trim_end_matches('/');
    let failed = |reason: String| Error::DiscoveryFailed { url: url.to_string(), reason };
    let document: Document = serde_json::from_slice(body)
        .map_err(|_| failed("the answer is not an OpenID configuration or OAuth metadata document".into()))?;
    // §4.3: the issuer in the document must be identical to the one asked for.
    if document.issuer.trim_end_matches('/') != issuer_text {
        return Err(Error::IssuerMismatch {
            url: url.to_string(),
            expected: issuer_text.to_owned(),
            found: crate::error::provider_text(&document.issuer),
        });
    }
    let checked = |text: &str, check: UrlCheck| {
        check("issuer", "endpoint in the server's metadata", text)
            .map(String::from)
            .map_err(|e| failed(e.to_string()))
    };
    let endpoint = |text: &str| checked(text, provider_url);
    let optional = |text: Option<&str>| text.map(endpoint).transpose();
    let token_endpoint =
        document.token_endpoint.as_deref().ok_or_else(|| failed("it has no token_endpoint".into()))?;
    Ok(Discovered {
        endpoints: Endpoints {
            authorize_url: checked(&document.authorization_endpoint, authorize_endpoint)?,
            token_url: endpoint(token_endpoint)?,
            userinfo_url: optional(document.userinfo_endpoint.as_deref())?,
            revocation_url: optional(document.revocation_endpoint.as_deref())?,
            jwks_url: optional(document.jwks_uri.as_deref())?,
            device_authorization_url: optional(document.device_authorization_endpoint.as_deref())?,
        },
        issuer: document.issuer,
        issuer_in_responses: document.authorization_response_iss_parameter_supported,
        id_token_algorithms: document.id_token_signing_alg_values_supported,
        client_auth_methods: document.token_endpoint_auth_methods_supported,
        pkce_methods: document.code_challenge_methods_supported,
        registration_url: optional(document.registration_endpoint.as_deref())?,
        client_id_metadata_documents: document.client_id_metadata_document_supported,
    })
}

/// The fuzz targets' way in (see `crate::fuzzing`).
#[cfg(feature = "fuzzing")]
impl Discovered {
    pub(crate) fn from_document(issuer: &Url, body: &[u8]) -> Result<Discovered> {
        endpoints_of(issuer, &openid_configuration_url(issuer)?, body)
    }
}
