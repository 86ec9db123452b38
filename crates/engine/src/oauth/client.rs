//! The `oauth2` client for a provider app, its token endpoint with the provider's quirks,
//! and how a token endpoint's refusal reads to a person.

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields,
    RequestTokenError, StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::quirks::TokenEndpoint;
use crate::catalog::ClientAuth;
use crate::http::{HttpClient, HttpError};
use crate::provider::ProviderRecord;
use crate::{Error, Result, Secret};

/// Every field of the token response beyond RFC 6749's: `id_token` (OpenID Connect),
/// and what providers add (Notion's `owner`, Slack's `authed_user` and `team`), which
/// may name the account.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct TokenExtras {
    #[serde(flatten)]
    pub(super) fields: serde_json::Map<String, serde_json::Value>,
}

impl TokenExtras {
    pub(super) fn id_token(&self) -> Option<&str> {
        self.fields.get("id_token").and_then(serde_json::Value::as_str)
    }

    /// How long the refresh token lasts, where the provider says
    /// (`refresh_token_expires_in`, seconds; GitHub Apps send it).
    pub fn refresh_token_lifetime(&self) -> Option<std::time::Duration> {
        let value = self.fields.get("refresh_token_expires_in")?;
        let seconds = value.as_u64().or_else(|| value.as_str()?.trim().parse().ok())?;
        super::grant::taken_lifetime(std::time::Duration::from_secs(seconds))
    }
}

impl std::fmt::Debug for TokenExtras {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenExtras([redacted])")
    }
}

impl ExtraTokenFields for TokenExtras {}

pub type TokenResponseWithId = StandardTokenResponse<TokenExtras, BasicTokenType>;

pub type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenResponseWithId,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The `oauth2` client for a provider app, with its secret when it has one.
pub fn oauth_client(provider: &ProviderRecord, client_secret: Option<Secret>) -> Result<OAuthClient> {
    let invalid =
        |what: &str| Error::Internal(format!("the stored {what} of {} is not a valid URL", provider.name));
    let mut client = oauth2::Client::new(ClientId::new(provider.app.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(provider.endpoints.authorize_url.clone()).map_err(|_| invalid("authorize URL"))?,
        )
        .set_token_uri(
            TokenUrl::new(provider.endpoints.token_url.clone()).map_err(|_| invalid("token URL"))?,
        );
    let client_auth = provider.client_auth();
    if let Some(secret) = client_secret.filter(|_| client_auth != ClientAuth::None) {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
    }
    Ok(match client_auth {
        ClientAuth::Basic => client.set_auth_type(AuthType::BasicAuth),
        ClientAuth::Post | ClientAuth::None => client.set_auth_type(AuthType::RequestBody),
    })
}

/// What to try when a token endpoint refuses the client credentials (`invalid_client`):
/// how they were sent, and how to send them another way.
pub(crate) fn client_auth_hint(provider: &ProviderRecord) -> String {
    format!(
        "the client ID and secret were sent {}; if the server takes them another way, change it with `grantkeeper providers set \"{}\" --client-auth basic|post|none` or under Provider apps",
        provider.client_auth().described(),
        provider.name
    )
}

/// The provider's token endpoint with its quirks smoothed over.
pub fn token_endpoint(provider: &ProviderRecord, http: &HttpClient) -> TokenEndpoint {
    TokenEndpoint {
        http: provider.http(http),
        request_format: provider.spec.map(|s| s.token_request).unwrap_or_default(),
        response_shape: provider.spec.map(|s| s.token_response).unwrap_or_default(),
        error_codes: provider.spec.map(|s| &s.error_codes),
    }
}

/// What a token endpoint's error answer says (its code and description), printable,
/// with the secrets its request carried (`sent`) redacted: a server may quote them back.
pub(crate) fn error_answer<T: oauth2::ErrorResponseType + std::fmt::Display>(
    response: &oauth2::StandardErrorResponse<T>,
    sent: &[&Secret],
) -> String {
    let said = match response.error_description() {
        Some(description) => format!("{} ({description})", response.error()),
        None => response.error().to_string(),
    };
    crate::error::provider_text(&Secret::redacted(&said, sent.iter().copied()))
}

pub(crate) fn token_error<T: oauth2::ErrorResponseType + std::fmt::Display + 'static>(
    error: RequestTokenError<HttpError, oauth2::StandardErrorResponse<T>>,
    provider: &str,
    token_url: &Url,
    sent: &[&Secret],
) -> Error {
    let provider = provider.to_owned();
    match error {
        RequestTokenError::ServerResponse(response) => {
            Error::ProviderError { provider, detail: error_answer(&response, sent) }
        }
        RequestTokenError::Request(error) => error.for_provider(token_url, &provider, "token response"),
        // The parse error quotes the body, which holds tokens: never show it.
        RequestTokenError::Parse(_, _) => Error::ProviderError {
            provider,
            detail: "the token endpoint's answer is not a valid token response".into(),
        },
        // oauth2 says what was wrong with the answer's form (an HTML page, say), never its body.
        RequestTokenError::Other(reason) => Error::ProviderError {
            provider,
            detail: format!(
                "the token endpoint's answer is not a valid token response ({})",
                crate::error::provider_text(&reason)
            ),
        },
    }
}
