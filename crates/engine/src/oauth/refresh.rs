//! Redeeming a refresh token (RFC 6749 §6), and what the provider's refusal means.

use oauth2::basic::BasicErrorResponseType;
use oauth2::{RefreshToken, RequestTokenError, TokenUrl};
use url::Url;

use super::client::{error_answer, oauth_client, token_endpoint, token_error};
use super::grant::Grant;
use crate::http::{HttpClient, HttpError};
use crate::provider::ProviderRecord;
use crate::{Error, Result, Secret};

/// Why a refresh brought no tokens.
pub(crate) enum RefreshRefused {
    /// `invalid_grant`: the grant is gone; only signing in again brings it back.
    GrantInvalid { detail: String },
    /// `interaction_required`, `login_required` or `consent_required` (OpenID Connect's
    /// codes, which Microsoft's token endpoint also answers with): the grant stands, but
    /// the provider lets it be used only once the person signs in again (multi-factor
    /// authentication, new terms, a changed consent). No retry can get past it.
    SignInRequired { detail: String },
    /// `invalid_client` or `unauthorized_client`: the provider app's client ID or secret,
    /// not the grant.
    ClientRejected { detail: String },
    /// Anything else (another error code, no connection, the provider busy): may pass.
    Failed(Error),
    /// The request left and no usable answer came back (a timeout, a dropped connection,
    /// an answer that could not be read): the provider may have redeemed the refresh
    /// token and, if it rotates them, retired it.
    Unanswered(Error),
}

/// Error codes that ask for the person (OpenID Connect Core §3.1.2.6), which some token
/// endpoints also send.
const SIGN_IN_REQUIRED: [&str; 3] = ["interaction_required", "login_required", "consent_required"];

/// Where refresh requests go when the provider has an endpoint for them beside its token
/// endpoint (Figma): the catalog's path on the token endpoint's origin in use, so it
/// follows a site or an endpoint set by hand.
pub(crate) fn refresh_url(provider: &ProviderRecord) -> Option<Url> {
    let path = provider.spec?.refresh_path.as_deref()?;
    let mut url = Url::parse(&provider.endpoints.token_url).ok()?;
    url.set_path(path);
    url.set_query(None);
    Some(url)
}

/// Presents `refresh_token` at the provider's token endpoint (or its refresh endpoint).
pub(crate) async fn refresh_grant(
    provider: &ProviderRecord,
    client_secret: Option<Secret>,
    refresh_token: &Secret,
    http: &HttpClient,
) -> Result<Grant, RefreshRefused> {
    let sent: Vec<&Secret> = client_secret.iter().chain([refresh_token]).collect();
    let mut client = oauth_client(provider, client_secret.clone()).map_err(RefreshRefused::Failed)?;
    if let Some(url) = refresh_url(provider) {
        client = client.set_token_uri(TokenUrl::from_url(url));
    }
    let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
    let mut request = client.exchange_refresh_token(&refresh_token);
    if let Some(resource) = &provider.resource {
        request = request.add_extra_param("resource", resource);
    }
    let answer = request.request_async(&token_endpoint(provider, http)).await;
    let response = match answer {
        Ok(response) => response,
        Err(RequestTokenError::ServerResponse(response)) => {
            let detail = error_answer(&response, &sent);
            return Err(match response.error() {
                BasicErrorResponseType::InvalidGrant => RefreshRefused::GrantInvalid { detail },
                BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => {
                    RefreshRefused::ClientRejected { detail }
                }
                BasicErrorResponseType::Extension(code) if SIGN_IN_REQUIRED.contains(&code.as_str()) => {
                    RefreshRefused::SignInRequired { detail }
                }
                _ => RefreshRefused::Failed(Error::ProviderError { provider: provider.name.clone(), detail }),
            });
        }
        Err(other) => {
            let not_redeemed = matches!(
                other,
                RequestTokenError::Request(HttpError::NotSent(_) | HttpError::Unavailable { .. })
            );
            let token_url = Url::parse(&provider.endpoints.token_url).expect("validated when stored");
            let error = token_error(other, &provider.name, &token_url, &sent);
            return Err(match not_redeemed {
                true => RefreshRefused::Failed(error),
                false => RefreshRefused::Unanswered(error),
            });
        }
    };
    // A success the grant cannot take (no access token, not a bearer token) may still
    // have cost the refresh token.
    let grant = Grant::from_answer(&response, &provider.name).map_err(RefreshRefused::Unanswered)?;
    Ok(grant.with_assumed_lifetime(provider))
}
