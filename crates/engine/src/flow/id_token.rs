//! Checks an OpenID Connect ID token before a sign-in is accepted (Core §3.1.3.7): the
//! signature against the provider's published keys (JWKS), issuer, audience, expiry,
//! and the nonce this flow sent, which ties the token to this sign-in.

use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
use url::Url;

use crate::http::HttpClient;
use crate::{Error, Result, Secret};

/// What the ID token of one sign-in must match.
pub struct ExpectedIdToken {
    pub issuer: String,
    pub client_id: String,
    /// For providers that sign with the client secret (HS256).
    pub client_secret: Option<Secret>,
    pub nonce: Secret,
}

pub async fn check_id_token(
    id_token: &Secret,
    expected: &ExpectedIdToken,
    jwks_url: &Url,
    provider: &str,
    http: &HttpClient,
) -> Result<()> {
    let refused = |detail: String| Error::ProviderError {
        provider: provider.to_owned(),
        detail: format!("its ID token was refused: {detail}"),
    };
    let (status, body) = http
        .get_json(jwks_url, None)
        .await
        .map_err(|e| e.for_provider(jwks_url, provider, "signing keys"))?;
    if status != 200 {
        return Err(refused(format!("its signing keys (JWKS) answered HTTP {status}")));
    }
    let keys: CoreJsonWebKeySet = serde_json::from_slice(&body)
        .map_err(|_| refused("its signing keys are not a JWKS document".into()))?;
    let issuer =
        IssuerUrl::new(expected.issuer.clone()).map_err(|_| refused("the issuer is not a URL".into()))?;
    let client_id = ClientId::new(expected.client_id.clone());
    let verifier = match &expected.client_secret {
        Some(secret) => CoreIdTokenVerifier::new_confidential_client(
            client_id,
            ClientSecret::new(secret.expose().to_owned()),
            issuer,
            keys,
        ),
        None => CoreIdTokenVerifier::new_public_client(client_id, issuer, keys),
    };
    let token: CoreIdToken =
        id_token.expose().parse().map_err(|_| refused("it is not a signed JWT".into()))?;
    // The library's messages name claims and algorithms, never the token.
    token
        .claims(&verifier, &Nonce::new(expected.nonce.expose().to_owned()))
        .map_err(|e| refused(crate::error::provider_text(&e.to_string())))?;
    Ok(())
}
