//! Registering Grantkeeper at an authorization server that lets clients register
//! themselves (RFC 7591), as a native app with a loopback redirect URI (RFC 8252 §8.4):
//! a public client, unless the server insists on issuing a secret.

use serde::Deserialize;
use url::Url;

use crate::catalog::ClientAuth;
use crate::http::{HttpClient, HttpError};
use crate::{Error, Result, Secret};

/// What the server registered.
pub struct Registered {
    pub client_id: String,
    pub client_auth: ClientAuth,
    pub client_secret: Option<Secret>,
    pub registration_token: Option<Secret>,
    pub registration_client_uri: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    client_id: String,
    client_secret: Option<String>,
    registration_access_token: Option<String>,
    registration_client_uri: Option<String>,
    token_endpoint_auth_method: Option<String>,
}

#[derive(Deserialize)]
struct Refusal {
    error: String,
    error_description: Option<String>,
}

/// The client metadata Grantkeeper sends: everything a server learns about it.
pub fn client_metadata(redirect_uri: &str) -> serde_json::Value {
    serde_json::json!({
        "client_name": "Grantkeeper",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
        "software_id": "dev.grantkeeper.app",
        "software_version": env!("CARGO_PKG_VERSION"),
    })
}

/// The client ID metadata document a distribution publishes at `url` (its client ID):
/// what a registration would send, for a loopback redirect on any port.
pub fn client_metadata_document(url: &Url) -> serde_json::Value {
    let mut document = client_metadata(METADATA_DOCUMENT_REDIRECT_URI);
    document["client_id"] = url.as_str().into();
    document
}

/// The redirect URI of a client ID metadata document; a native client's loopback
/// redirect may use any port (RFC 8252, section 7.3).
pub const METADATA_DOCUMENT_REDIRECT_URI: &str = "http://127.0.0.1/callback";

pub async fn register(
    http: &HttpClient,
    server: &str,
    registration_url: &Url,
    redirect_uri: &Url,
) -> Result<Registered> {
    let refused = |detail: String| Error::RegistrationRefused { server: server.to_owned(), detail };
    let request = http::Request::post(registration_url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .body(serde_json::to_vec(&client_metadata(redirect_uri.as_str())).expect("JSON serializes"))
        .expect("a valid request");
    // Busy (429, 5xx) or unreachable is a reason to try again later, not a refusal.
    let response = http.execute(request).await.map_err(|e| match e {
        HttpError::TooLarge => refused(e.to_string()),
        e => e.for_provider(registration_url, server, "registration answer"),
    })?;
    let status = response.status().as_u16();
    let body = response.into_body();
    if !(200..300).contains(&status) {
        let detail = match serde_json::from_slice::<Refusal>(&body) {
            Ok(Refusal { error, error_description: Some(text) }) => {
                format!("{}: {}", crate::error::provider_text(&error), crate::error::provider_text(&text))
            }
            Ok(Refusal { error, .. }) => crate::error::provider_text(&error),
            Err(_) => format!("HTTP {status}"),
        };
        return Err(refused(detail));
    }
    let answer: Answer =
        serde_json::from_slice(&body).map_err(|_| refused("its answer names no client_id".into()))?;
    let client_id = answer.client_id.trim();
    if client_id.is_empty() || client_id.len() > 512 || client_id.chars().any(crate::error::misleads) {
        return Err(refused("its answer has no usable client_id".into()));
    }
    let client_auth = match (answer.token_endpoint_auth_method.as_deref(), answer.client_secret.is_some()) {
        (Some("none"), _) | (None, false) => ClientAuth::None,
        (Some("client_secret_post"), true) => ClientAuth::Post,
        (None | Some("client_secret_basic"), true) => ClientAuth::Basic,
        (Some(other), _) => {
            return Err(refused(format!(
                "it registered a client that signs in with “{}”, which Grantkeeper does not support",
                crate::error::provider_text(other)
            )))
        }
    };
    Ok(Registered {
        client_id: client_id.to_owned(),
        client_auth,
        client_secret: answer.client_secret.map(Secret::new),
        registration_token: answer.registration_access_token.map(Secret::new),
        registration_client_uri: answer.registration_client_uri,
    })
}
