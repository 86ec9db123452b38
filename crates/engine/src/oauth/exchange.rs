//! Redeeming the authorization code (RFC 6749 §4.1.3 with PKCE, RFC 7636) and learning
//! which account was signed in.

use base64::Engine as _;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::id_token::{Expected, SigningKeys};
use super::quirks::TokenEndpoint;
use crate::catalog::template::{fill, json_field};
use crate::catalog::{ClientAuth, HttpMethod, IdentitySource, IdentitySpec, Pkce};
use crate::http::{HttpClient, HttpError};
use crate::provider::ProviderRecord;
use crate::vault::TokenSet;
use crate::{Error, Result, Secret};

/// Every field of the token response beyond RFC 6749's: `id_token` (OpenID Connect),
/// and what providers add (Notion's `owner`, Slack's `authed_user` and `team`), which
/// may name the account.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct TokenExtras {
    #[serde(flatten)]
    fields: serde_json::Map<String, serde_json::Value>,
}

impl TokenExtras {
    fn id_token(&self) -> Option<&str> {
        self.fields.get("id_token").and_then(serde_json::Value::as_str)
    }

    /// How long the refresh token lasts, where the provider says
    /// (`refresh_token_expires_in`, seconds; GitHub Apps send it).
    pub fn refresh_token_lifetime(&self) -> Option<std::time::Duration> {
        let value = self.fields.get("refresh_token_expires_in")?;
        let seconds = value.as_u64().or_else(|| value.as_str()?.trim().parse().ok())?;
        Some(std::time::Duration::from_secs(seconds))
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

/// The `oauth2` client for a provider app, with its secret when it has one.
pub fn oauth_client(provider: &ProviderRecord, client_secret: Option<Secret>) -> Result<OAuthClient> {
    let invalid =
        |what: &str| Error::Internal(format!("the stored {what} of {} is not a valid URL", provider.name));
    let mut client = oauth2::Client::new(ClientId::new(provider.app.client_id.clone()))
        .set_auth_uri(AuthUrl::new(provider.authorize_url.clone()).map_err(|_| invalid("authorize URL"))?)
        .set_token_uri(TokenUrl::new(provider.token_url.clone()).map_err(|_| invalid("token URL"))?);
    if let Some(secret) = client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
    }
    Ok(match provider.client_auth() {
        ClientAuth::Basic => client.set_auth_type(AuthType::BasicAuth),
        ClientAuth::Body => client.set_auth_type(AuthType::RequestBody),
    })
}

/// The provider's token endpoint with its quirks smoothed over.
pub fn token_endpoint(provider: &ProviderRecord, http: &HttpClient) -> TokenEndpoint {
    TokenEndpoint {
        http: http.clone(),
        request_format: provider.spec.map(|s| s.token_request).unwrap_or_default(),
        response_shape: provider.spec.map(|s| s.token_response).unwrap_or_default(),
        error_codes: provider.spec.map(|s| &s.error_codes),
    }
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

/// Tokens and scopes from a successful code exchange.
pub struct Grant {
    pub tokens: TokenSet,
    pub scopes: Vec<String>,
    pub expires_in: Option<std::time::Duration>,
    /// The rest of the token response (may name the account; may hold secrets).
    pub extras: TokenExtras,
}

impl Authorization {
    pub async fn redeem(self, code: Secret, provider: &ProviderRecord, http: &HttpClient) -> Result<Grant> {
        let token_url = Url::parse(self.client.token_uri().as_str()).expect("validated when stored");
        let mut exchange = self.client.exchange_code(AuthorizationCode::new(code.expose().to_owned()));
        if let Some(verifier) = self.verifier {
            exchange = exchange.set_pkce_verifier(verifier);
        }
        let response = exchange
            .request_async(&token_endpoint(provider, http))
            .await
            .map_err(|e| token_error(e, &provider.name, &token_url))?;
        require_access_token(&response, &provider.name)?;
        let tokens = tokens_of(&response);
        let expected = Expected::SignIn { nonce: self.nonce.as_ref() };
        check_sign_in_id_token(&tokens, provider, self.client_secret.as_ref(), expected, http).await?;
        Ok(Grant::of(&response, tokens, self.requested_scopes))
    }
}

/// Checks the ID token of a sign-in, where the provider sent one and its ID tokens are
/// checked; a refused token fails the sign-in before anything is kept.
pub(crate) async fn check_sign_in_id_token(
    tokens: &TokenSet,
    provider: &ProviderRecord,
    client_secret: Option<&Secret>,
    expected: Expected<'_>,
    http: &HttpClient,
) -> Result<()> {
    let Some(id_token) = tokens.id_token.as_ref().filter(|_| provider.checks_id_tokens()) else {
        return Ok(());
    };
    let keys = SigningKeys::fetch(provider, http).await?;
    keys.check(id_token, provider, client_secret, expected)
        .map_err(|e| Error::ProviderError { provider: provider.name.clone(), detail: e.to_string() })
}

impl Grant {
    /// The grant a token response gives; RFC 6749 §5.1: no `scope` in the answer means
    /// the requested scopes were granted.
    pub(crate) fn of(
        response: &TokenResponseWithId,
        tokens: TokenSet,
        requested_scopes: Vec<String>,
    ) -> Grant {
        let scopes = match response.scopes() {
            Some(granted) => granted.iter().map(|s| s.to_string()).collect(),
            None => requested_scopes,
        };
        Grant { scopes, expires_in: response.expires_in(), tokens, extras: response.extra_fields().clone() }
    }
}

pub(crate) fn require_access_token(response: &TokenResponseWithId, provider: &str) -> Result<()> {
    if response.access_token().secret().is_empty() {
        return Err(Error::ProviderError {
            provider: provider.to_owned(),
            detail: "the token response has an empty access_token".into(),
        });
    }
    Ok(())
}

/// The tokens of a token response; a missing refresh or ID token stays `None`.
pub(crate) fn tokens_of(response: &TokenResponseWithId) -> TokenSet {
    TokenSet::oauth(
        Secret::new(response.access_token().secret().clone()),
        response.refresh_token().map(|t| Secret::new(t.secret().clone())),
        response.extra_fields().id_token().map(|t| Secret::new(t.to_owned())),
    )
}

pub(crate) fn token_error<T: oauth2::ErrorResponseType + std::fmt::Display + 'static>(
    error: RequestTokenError<HttpError, oauth2::StandardErrorResponse<T>>,
    provider: &str,
    token_url: &Url,
) -> Error {
    let provider = provider.to_owned();
    match error {
        RequestTokenError::ServerResponse(response) => {
            let mut detail = response.error().to_string();
            if let Some(description) = response.error_description() {
                detail = format!("{detail} ({})", crate::error::provider_text(description));
            }
            Error::ProviderError { provider, detail }
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

/// The signed-in account: a stable subject and a name a person recognises.
pub struct Identity {
    pub subject: String,
    pub account: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    email: Option<String>,
    preferred_username: Option<String>,
    login: Option<String>,
}

impl Claims {
    fn identity(self) -> Option<Identity> {
        let subject = self.sub?;
        let account = self.email.or(self.preferred_username).or(self.login).or_else(|| Some(subject.clone()));
        Some(Identity { subject, account })
    }
}

pub async fn identity(provider: &ProviderRecord, grant: &Grant, http: &HttpClient) -> Result<Identity> {
    match provider.spec {
        Some(spec) => identity_by_spec(provider, &spec.identity, grant, http).await,
        None => oidc_identity(provider, &grant.tokens, http).await,
    }
}

/// The account as the catalog says to learn it: from the provider's API or from the
/// token response.
async fn identity_by_spec(
    provider: &ProviderRecord,
    spec: &IdentitySpec,
    grant: &Grant,
    http: &HttpClient,
) -> Result<Identity> {
    let document = match spec.source {
        IdentitySource::TokenResponse => serde_json::Value::Object(grant.extras.fields.clone()),
        IdentitySource::Api => {
            let url = provider.userinfo_url.as_deref().expect("the catalog names an identity URL");
            let url = Url::parse(url).expect("validated when stored");
            let (status, body) = http
                .call_json(spec.method == HttpMethod::Post, &url, Some(grant.tokens.access_token.expose()))
                .await
                .map_err(|e| e.for_provider(&url, &provider.name, "identity answer"))?;
            let document: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            // Slack's Web API answers errors with HTTP 200 and `ok: false`.
            if status != 200 || document.get("ok") == Some(&serde_json::Value::Bool(false)) {
                return Err(Error::ProviderError {
                    provider: provider.name.clone(),
                    detail: format!("its identity endpoint answered HTTP {status}"),
                });
            }
            document
        }
    };
    if spec.source == IdentitySource::Api {
        require_userinfo_subject(provider, &grant.tokens, document.get("sub").and_then(|s| s.as_str()))?;
    }
    let value_of = |field: &str| json_field(&document, field);
    let subject = fill(&spec.subject, value_of).ok_or_else(|| Error::ProviderError {
        provider: provider.name.clone(),
        detail: "its answer does not say which account signed in".into(),
    })?;
    if let Some(claim) = &spec.id_token_claim {
        require_id_token_account(provider, &grant.tokens, claim, &subject)?;
    }
    let account = spec.account.iter().find_map(|template| fill(template, value_of));
    Ok(Identity { subject, account: account.map(|a| crate::error::provider_text(&a)) })
}

/// A custom (OpenID Connect) provider: userinfo, else the id_token's claims.
async fn oidc_identity(provider: &ProviderRecord, tokens: &TokenSet, http: &HttpClient) -> Result<Identity> {
    if let Some(userinfo) = &provider.userinfo_url {
        let url = Url::parse(userinfo).expect("validated when stored");
        let (status, body) = http
            .get_json(&url, Some(tokens.access_token.expose()))
            .await
            .map_err(|e| e.for_provider(&url, &provider.name, "userinfo answer"))?;
        if status != 200 {
            return Err(Error::ProviderError {
                provider: provider.name.clone(),
                detail: format!("its userinfo endpoint answered HTTP {status}"),
            });
        }
        if let Some(identity) = serde_json::from_slice::<Claims>(&body).ok().and_then(Claims::identity) {
            require_userinfo_subject(provider, tokens, Some(&identity.subject))?;
            return Ok(identity);
        }
    }
    // The id_token came straight from the token endpoint over TLS, which OpenID Connect
    // Core §3.1.3.7 accepts in place of checking its signature for the code flow.
    if let Some(identity) =
        tokens.id_token.as_ref().and_then(|t| id_token_claims(t.expose())).and_then(Claims::identity)
    {
        return Ok(identity);
    }
    // No way to learn the account: each grant is its own credential.
    Ok(Identity { subject: format!("unknown:{}", uuid::Uuid::new_v4()), account: None })
}

/// OpenID Connect Core §5.3.2: a userinfo answer (one with a `sub`) must be about the
/// account the sign-in's ID token names, or it may describe someone else (a token
/// substitution). Applies where that ID token was checked ([`check_sign_in_id_token`]),
/// which happens before the account is learnt.
fn require_userinfo_subject(
    provider: &ProviderRecord,
    tokens: &TokenSet,
    userinfo_subject: Option<&str>,
) -> Result<()> {
    let Some(userinfo_subject) = userinfo_subject else { return Ok(()) };
    require_id_token_account(provider, tokens, "sub", userinfo_subject)
}

/// The account a provider's identity answer names must be the one the sign-in's checked
/// ID token names in `claim`: `sub` for userinfo; for an API that is not userinfo
/// (Microsoft Graph `/me`, GitLab `/api/v4/user`), the claim the catalog names
/// (`identity.id_token_claim`). Nothing to compare without a checked ID token.
fn require_id_token_account(
    provider: &ProviderRecord,
    tokens: &TokenSet,
    claim: &str,
    account: &str,
) -> Result<()> {
    let Some(id_token) = tokens.id_token.as_ref().filter(|_| provider.checks_id_tokens()) else {
        return Ok(());
    };
    let named = id_token_payload(id_token.expose()).and_then(|payload| json_field(&payload, claim));
    if named.as_deref() != Some(account) {
        return Err(Error::ProviderError {
            provider: provider.name.clone(),
            detail: "its userinfo answer names another account than its ID token; nothing was saved".into(),
        });
    }
    Ok(())
}

fn id_token_claims(id_token: &str) -> Option<Claims> {
    serde_json::from_value(id_token_payload(id_token)?).ok()
}

fn id_token_payload(id_token: &str) -> Option<serde_json::Value> {
    let payload = id_token.split('.').nth(1)?;
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}
