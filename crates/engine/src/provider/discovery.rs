//! OpenID Connect discovery (OpenID Connect Discovery 1.0 §4): fetch the issuer's
//! configuration and insist that it names the same issuer (§4.3).

use serde::Deserialize;
use url::Url;

use crate::http::{host_of, HttpClient, HttpError};
use crate::{Error, Result};

use super::urls::provider_url;
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
    revocation_endpoint: Option<String>,
    jwks_uri: Option<String>,
    device_authorization_endpoint: Option<String>,
}

pub async fn discover(http: &HttpClient, issuer: &Url) -> Result<Discovered> {
    let url = configuration_url(issuer)?;
    let failed = |reason: String| Error::DiscoveryFailed { url: url.to_string(), reason };
    let (status, body) = http.get_json(&url, None).await.map_err(|e| match e {
        HttpError::NotSent(reason) | HttpError::Transport(reason) => Error::DiscoveryFailed {
            url: url.to_string(),
            reason: format!("{} did not answer ({reason})", host_of(&url)),
        },
        HttpError::TooLarge | HttpError::Unavailable { .. } => failed(e.to_string()),
    })?;
    if status != 200 {
        return Err(failed(format!("the server answered HTTP {status}")));
    }
    endpoints_of(issuer, &body)
}

fn configuration_url(issuer: &Url) -> Result<Url> {
    let issuer_text = issuer.as_str().trim_end_matches('/');
    Url::parse(&format!("{issuer_text}/.well-known/openid-configuration"))
        .map_err(|_| Error::invalid("issuer", "The issuer URL cannot be used for discovery."))
}

/// The endpoints named by the configuration document `body` that `issuer` served.
fn endpoints_of(issuer: &Url, body: &[u8]) -> Result<Discovered> {
    let issuer_text = issuer.as_str().trim_end_matches('/');
    let url = configuration_url(issuer)?;
    let failed = |reason: String| Error::DiscoveryFailed { url: url.to_string(), reason };
    let document: Document = serde_json::from_slice(body)
        .map_err(|_| failed("the answer is not an OpenID configuration document".into()))?;
    // §4.3: the issuer in the document must be identical to the one asked for.
    if document.issuer.trim_end_matches('/') != issuer_text {
        return Err(Error::IssuerMismatch {
            url: url.to_string(),
            expected: issuer_text.to_owned(),
            found: crate::error::provider_text(&document.issuer),
        });
    }
    let endpoint = |text: &str| {
        provider_url("issuer", "endpoint in the OpenID configuration", text)
            .map(String::from)
            .map_err(|e| failed(e.to_string()))
    };
    let optional = |text: Option<&str>| text.map(endpoint).transpose();
    let token_endpoint =
        document.token_endpoint.as_deref().ok_or_else(|| failed("it has no token_endpoint".into()))?;
    Ok(Discovered {
        endpoints: Endpoints {
            authorize_url: endpoint(&document.authorization_endpoint)?,
            token_url: endpoint(token_endpoint)?,
            userinfo_url: optional(document.userinfo_endpoint.as_deref())?,
            revocation_url: optional(document.revocation_endpoint.as_deref())?,
            jwks_url: optional(document.jwks_uri.as_deref())?,
            device_authorization_url: optional(document.device_authorization_endpoint.as_deref())?,
        },
        issuer: document.issuer,
        issuer_in_responses: document.authorization_response_iss_parameter_supported,
        id_token_algorithms: document.id_token_signing_alg_values_supported,
    })
}

/// The fuzz targets' way in (see `crate::fuzzing`).
#[cfg(feature = "fuzzing")]
impl Discovered {
    pub(crate) fn from_document(issuer: &Url, body: &[u8]) -> Result<Discovered> {
        endpoints_of(issuer, body)
    }
}
