//! The authorization request (RFC 6749 §4.1 with PKCE, RFC 7636) and redeeming the code
//! it brings back.

use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
};
use url::Url;

use super::client::{client_auth_hint, oauth_client, token_endpoint, token_error, OAuthClient};
use super::grant::Grant;
use super::id_token::Expected;
use crate::catalog::Pkce;
use crate::http::HttpClient;
use crate::provider::ProviderRecord;
use crate::{Error, Result, Secret};

/// Everything a flow must remember to redeem its code exactly where it asked for it.
pub struct Authorization {
    client: OAuthClient,
    pub authorize_url: Url,
    pub state: String,
    verifier: Option<PkceCodeVerifier>,
    requested_scopes: Vec<String>,
    /// Sent to OpenID providers whose ID tokens are checked; the ID token must carry it back.
    nonce: Option<Secret>,
    /// For ID tokens signed with it (HS256).
    client_secret: Option<Secret>,
}

/// What a flow asks the provider for.
pub struct AuthorizationRequest<'a> {
    /// As the provider spells them.
    pub scopes: &'a [String],
    /// The account to pre-select (Reconnect, `--account`).
    pub login_hint: Option<&'a str>,
}

pub fn authorization(
    provider: &ProviderRecord,
    client_secret: Option<Secret>,
    redirect_uri: &Url,
    request: AuthorizationRequest,
) -> Result<Authorization> {
    let client = oauth_client(provider, client_secret.clone())?
        .set_redirect_uri(RedirectUrl::from_url(redirect_uri.clone()));
    let mut url = client.authorize_url(CsrfToken::new_random);
    let (scope_param, separator) =
        provider.spec.map_or(("scope", " "), |s| (s.scope_param.as_str(), s.scope_separator.as_str()));
    if !request.scopes.is_empty() {
        url = url.add_extra_param(scope_param, request.scopes.join(separator));
    }
    let verifier = match provider.pkce() {
        Pkce::S256 => {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            url = url.set_pkce_challenge(challenge);
            Some(verifier)
        }
        Pkce::None => None,
    };
    match provider.spec {
        Some(spec) => {
            for (name, value) in &spec.extra_authorize_params {
                url = url.add_extra_param(name, value);
            }
        }
        // OpenID Connect Core §11: a request for offline_access must ask for consent,
        // or the provider drops the scope and issues no refresh token.
        None if request.scopes.iter().any(|s| s == "offline_access") => {
            url = url.add_extra_param("prompt", "consent");
        }
        None => {}
    }
    // An OpenID provider's ID token is checked (signature, nonce) before the sign-in is
    // accepted.
    let nonce = (provider.checks_id_tokens() && request.scopes.iter().any(|s| s == "openid"))
        .then(|| Secret::new(CsrfToken::new_random().secret().clone()));
    if let Some(nonce) = &nonce {
        url = url.add_extra_param("nonce", nonce.expose());
    }
    if let Some(resource) = &provider.resource {
        url = url.add_extra_param("resource", resource);
    }
    let hint_param = provider.spec.map_or(Some("login_hint"), |s| s.login_hint_param.as_deref());
    if let (Some(param), Some(hint)) = (hint_param, request.login_hint) {
        url = url.add_extra_param(param, hint);
    }
    let (authorize_url, state) = url.url();
    Ok(Authorization {
        client,
        authorize_url,
        state: state.secret().clone(),
        verifier,
        requested_scopes: request.scopes.to_vec(),
        nonce,
        client_secret,
    })
}

impl Authorization {
    pub async fn redeem(self, code: Secret, provider: &ProviderRecord, http: &HttpClient) -> Result<Grant> {
        let token_url = Url::parse(self.client.token_uri().as_str()).expect("validated when stored");
        let mut exchange = self.client.exchange_code(AuthorizationCode::new(code.expose().to_owned()));
        if let Some(verifier) = self.verifier {
            exchange = exchange.set_pkce_verifier(verifier);
        }
        if let Some(resource) = &provider.resource {
            exchange = exchange.add_extra_param("resource", resource);
        }
        let response = exchange.request_async(&token_endpoint(provider, http)).await.map_err(|e| {
            let client_refused = matches!(&e, RequestTokenError::ServerResponse(answer)
                if *answer.error() == BasicErrorResponseType::InvalidClient);
            let sent: Vec<&Secret> = self.client_secret.iter().chain([&code]).collect();
            match token_error(e, &provider.name, &token_url, &sent) {
                Error::ProviderError { provider: name, detail } if client_refused => Error::ProviderError {
                    provider: name,
                    detail: format!("{detail}: {}", client_auth_hint(provider)),
                },
                error => error,
            }
        })?;
        let expected = Expected::SignIn { nonce: self.nonce.as_ref() };
        let secret = self.client_secret.as_ref();
        Grant::of_sign_in(&response, provider, secret, expected, &self.requested_scopes, http).await
    }
}
