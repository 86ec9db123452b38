//! The file format of the built-in catalog (`crates/engine/catalog.toml`). build.rs
//! reads the file with these same types and refuses to build a catalog that does not
//! validate, so a typo never reaches a person.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Providers and integrations in the file's order, which is the order people see.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub providers: IndexMap<String, ProviderSpec>,
    pub integrations: IndexMap<String, IntegrationSpec>,
}

/// An authorization server as its documentation describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    pub name: String,
    /// The provider's OAuth documentation.
    pub docs_url: String,
    /// Where the entry's facts come from, and when they were last checked.
    pub sources: Sources,
    /// Where a person registers the provider app.
    pub console_url: String,
    /// Steps to register the provider app; `{redirect_uri}` is replaced by the URI to
    /// register.
    pub setup: Vec<String>,
    /// Another catalog provider whose provider app this one signs in with, unless the
    /// person sets one of its own: the same authorization server and registration,
    /// asked for tokens of another service (Azure DevOps with Microsoft 365's Entra
    /// app). Its credentials stay apart, since its tokens are for that other service.
    pub app_from: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub revocation_url: Option<String>,
    /// RFC 8628 device authorization endpoint, for signing in from a terminal without
    /// a browser (`connect --device`).
    pub device_authorization_url: Option<String>,
    /// The only scopes a sign-in by code may ask for, where the provider limits them
    /// (Google); empty: any.
    #[serde(default)]
    pub device_scopes: Vec<String>,
    #[serde(default)]
    pub revocation: RevocationStyle,
    #[serde(default)]
    pub revoke_with: RevokedTokens,
    /// Headers its revocation endpoint requires (Notion's API version).
    #[serde(default)]
    pub revocation_headers: BTreeMap<String, String>,
    /// The identity API (OpenID userinfo or the provider's "who am I" endpoint).
    pub userinfo_url: Option<String>,
    /// The `iss` its authorization responses carry (RFC 9207), when it sends one.
    pub issuer: Option<String>,
    /// How to check its OpenID Connect ID tokens; none for a provider without them.
    pub id_token: Option<IdTokenSpec>,
    #[serde(default)]
    pub pkce: Pkce,
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// Whether the provider app needs a client secret to redeem codes.
    #[serde(default)]
    pub client_secret: ClientSecretRule,
    #[serde(default)]
    pub token_request: TokenRequestFormat,
    #[serde(default)]
    pub token_response: TokenResponseShape,
    #[serde(default)]
    pub refresh_tokens: RefreshTokens,
    /// Where refresh requests go when not to the token endpoint: this path on the token
    /// endpoint's origin, so it follows a site or an endpoint set by hand (Figma's
    /// `/v1/oauth/refresh`).
    pub refresh_path: Option<String>,
    /// How long an access token is taken to live when the provider's answer says nothing
    /// (no `expires_in`), so it is refreshed before it can have lapsed: Salesforce, whose
    /// tokens end with the org's session timeout (15 minutes at the shortest).
    pub assumed_lifetime_secs: Option<u64>,
    /// Fields of the token answer kept with the credential, where they are not secret and
    /// say where to use the tokens (Salesforce's `instance_url`).
    #[serde(default)]
    pub kept_token_fields: Vec<String>,
    /// The User-Agent every request to the provider carries, where it asks for one of
    /// the app's own (Reddit); `{version}` and `{client_id}` are filled in.
    pub user_agent: Option<String>,
    /// What ends sign-ins to a provider app the provider still treats as in testing.
    pub testing_mode: Option<TestingModeSpec>,
    /// Days a sign-in's refresh tokens last at most, counted from the sign-in, where the
    /// provider documents a limit that refreshing does not extend and its answers do
    /// not say (Spotify: 6 months).
    pub sign_in_lasts_days: Option<u32>,
    /// The provider adds new scopes to the existing grant (Google's
    /// `include_granted_scopes`), so a new integration asks only for its own scopes.
    #[serde(default)]
    pub incremental_authorization: bool,
    #[serde(default = "default_scope_param")]
    pub scope_param: String,
    #[serde(default = "default_scope_separator")]
    pub scope_separator: String,
    #[serde(default)]
    pub extra_authorize_params: BTreeMap<String, String>,
    /// The authorize parameter that pre-selects an account on Reconnect.
    pub login_hint_param: Option<String>,
    #[serde(default)]
    pub redirect: RedirectSpec,
    pub identity: IdentitySpec,
    /// Short names of scopes every flow asks for (to learn the account, to get a
    /// refresh token).
    #[serde(default)]
    pub base_scopes: Vec<String>,
    /// Provider-specific error codes and the RFC 6749 code they mean.
    #[serde(default)]
    pub error_codes: BTreeMap<String, String>,
    pub site: Option<SiteSpec>,
    pub scopes: BTreeMap<String, ScopeSpec>,
}

fn default_scope_param() -> String {
    "scope".into()
}

fn default_scope_separator() -> String {
    " ".into()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pkce {
    #[default]
    S256,
    None,
}

/// How a token endpoint takes the client's credentials (RFC 6749 §2.3.1; the names of
/// RFC 7591's `token_endpoint_auth_method`, shortened).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic with the client id and secret (`client_secret_basic`).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the request body (`client_secret_post`).
    Post,
    /// A public client: `client_id` in the body and no secret, even if one is stored
    /// (`none`).
    None,
}

impl ClientAuth {
    /// Its name, as `--client-auth` and the catalog spell it.
    pub fn name(self) -> &'static str {
        match self {
            ClientAuth::Basic => "basic",
            ClientAuth::Post => "post",
            ClientAuth::None => "none",
        }
    }

    /// How a person would describe it.
    pub fn described(self) -> &'static str {
        match self {
            ClientAuth::Basic => "with HTTP Basic (client_secret_basic)",
            ClientAuth::Post => "in the request body (client_secret_post)",
            ClientAuth::None => "as a public client, with no secret (none)",
        }
    }

    const ALL: [ClientAuth; 3] = [ClientAuth::Basic, ClientAuth::Post, ClientAuth::None];

    /// The one to use with a server that lists `methods`
    /// (`token_endpoint_auth_methods_supported`): Basic when it lists it or lists
    /// nothing (RFC 8414 §2's default), else the body.
    pub fn chosen_from(methods: &[String]) -> ClientAuth {
        let listed = |name: &str| methods.iter().any(|m| m == name);
        if methods.is_empty() || listed("client_secret_basic") || !listed("client_secret_post") {
            ClientAuth::Basic
        } else {
            ClientAuth::Post
        }
    }
}

impl std::str::FromStr for ClientAuth {
    type Err = String;

    /// By [`ClientAuth::name`].
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ClientAuth::ALL.into_iter().find(|method| method.name() == name.trim()).ok_or_else(|| {
            format!("“{}” is not a client authentication: use basic, post or none.", name.trim())
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSecretRule {
    #[default]
    Required,
    /// Public clients (desktop registrations) may leave it out.
    Optional,
    /// Public clients have none and authenticate with HTTP Basic all the same, with an
    /// empty password (Reddit's installed apps).
    Empty,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenRequestFormat {
    #[default]
    Form,
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenResponseShape {
    #[default]
    Standard,
    /// Form-encoded unless asked for JSON; errors come with HTTP 200; comma scopes.
    Github,
    /// `ok: false` errors with HTTP 200; the user token sits under `authed_user`.
    SlackV2,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokens {
    /// Tokens do not expire and there is no refresh token.
    None,
    /// A refresh token that stays the same.
    #[default]
    Reusable,
    /// Every refresh returns a new refresh token and retires the old one.
    Rotating,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationStyle {
    /// RFC 7009: POST `token` (+ `token_type_hint`) with client authentication.
    #[default]
    Rfc7009,
    /// GitHub: DELETE `/applications/{client_id}/grant` with Basic auth and the token
    /// in a JSON body.
    GithubGrant,
    /// POST with the token itself as Bearer (Dropbox, Slack).
    BearerPost,
}

/// The documentation pages a catalog entry follows.
#[derive(Debug, Clone, Deserialize, Serialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct Sources {
    /// The month they were last read against the entry, `YYYY-MM`.
    pub checked: String,
    pub urls: Vec<String>,
}

/// A provider that ends sign-ins after a few days while the provider app is in testing
/// (Google: an External app whose publishing status is Testing).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestingModeSpec {
    /// How many days a sign-in lasts there.
    pub sign_in_lasts_days: u32,
    /// Scope values a grant may hold and still not be limited.
    pub unlimited_scopes: Vec<String>,
    /// What the person can do about it.
    pub advice: String,
}

/// Which of a grant's tokens its revocation endpoint is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedTokens {
    /// The refresh token, then the access token: RFC 7009 §2.1 leaves it to the server
    /// whether revoking a refresh token also ends its access tokens.
    #[default]
    RefreshThenAccess,
    /// The refresh token alone (the access token when there is none): it ends the
    /// whole grant, after which the access token is unknown to the provider (Google).
    RefreshEndsGrant,
    /// The access token alone, which must be live: refreshed first when there is a
    /// refresh token, since an expired one revokes nothing (Dropbox, Slack, Notion).
    FreshAccessToken,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectSpec {
    /// `127.0.0.1` or `localhost`, as the provider wants it registered.
    #[serde(default = "default_loopback_host")]
    pub host: String,
    /// A fixed port for providers that match the redirect URI exactly, port included;
    /// none: any port (RFC 8252 §7.3).
    pub port: Option<u16>,
}

fn default_loopback_host() -> String {
    "127.0.0.1".into()
}

impl Default for RedirectSpec {
    fn default() -> Self {
        RedirectSpec { host: default_loopback_host(), port: None }
    }
}

/// What an OpenID Connect ID token of the provider must carry, and where the keys
/// that sign it are published.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdTokenSpec {
    /// The `iss` values it signs with; `{tid}` stands for the token's own `tid` claim
    /// (Microsoft's multi-tenant endpoints sign as the account's tenant), `{site}` for
    /// a base-URL site (a self-managed GitLab is its own issuer).
    pub issuers: Vec<String>,
    /// The JWKS document; may name `{site}`.
    pub jwks_url: String,
    /// Microsoft's tenant of personal accounts: the only `tid` a `consumers` site signs
    /// as, and one an `organizations` site (work and school accounts) never does.
    pub consumer_tenant: Option<String>,
}

/// How to learn which account signed in. Templates name fields of a JSON answer
/// (`{email}`, `{owner.user.id}`); the first account template whose fields are all
/// present wins.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySpec {
    pub source: IdentitySource,
    #[serde(default)]
    pub method: HttpMethod,
    /// A JSON body for a POST identity API (Linear's GraphQL `viewer` query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub subject: String,
    pub account: Vec<String>,
    /// The ID token claim that names the account `subject` names, where the API is not
    /// OpenID userinfo (whose `sub` is compared as it is): Microsoft Graph `/me`'s `id`
    /// is the token's `oid`, GitLab `/api/v4/user`'s numeric `id` its `sub`. Where the
    /// sign-in's ID token was checked, the two must agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_claim: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    /// GET/POST the provider's identity API (`userinfo_url`) with the access token.
    Api,
    /// Fields of the token response itself.
    TokenResponse,
    /// Claims of the sign-in's ID token, checked as `id_token` says: for tokens meant for
    /// another service's API, which the authorization server's userinfo does not take.
    IdToken,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpMethod {
    #[default]
    Get,
    Post,
}

/// A provider with self-hosted or regional variants: GitHub Enterprise Server, a
/// self-managed GitLab, a Microsoft tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    pub kind: SiteKind,
    pub label: String,
    pub help: String,
    pub default: String,
    /// Endpoint templates (`{site}`) used when the site is not the default; endpoints
    /// not named here use the provider's own (which may contain `{site}` too).
    #[serde(default)]
    pub urls: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// An https base URL (http only to loopback).
    BaseUrl,
    /// A tenant id or domain: letters, digits, dots and dashes.
    Tenant,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeSpec {
    /// The scope string the provider expects.
    pub value: String,
    /// What it allows, in plain words for the consent summary.
    pub description: String,
}

/// Something a person connects: an OAuth integration on a provider, or an API-key
/// service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationSpec {
    pub name: String,
    pub category: String,
    pub description: String,
    pub docs_url: String,
    /// The provider whose grant it uses; none for an API-key service.
    pub provider: Option<String>,
    /// Short names of the provider's scopes this integration needs.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// A step to add to the provider's set-up for this integration (enable its API).
    pub setup: Option<String>,
    pub check: Option<CheckSpec>,
    pub api_key: Option<ApiKeySpec>,
    /// The integration's tokens also serve git over HTTPS on the provider's site, with
    /// this user name (`grantkeeper git-credential`).
    pub git_username: Option<String>,
    /// The git host its tokens serve, for a provider without a site (Bitbucket Cloud:
    /// https://bitbucket.org); otherwise git is served on the provider's site.
    pub git_host: Option<String>,
}

/// A cheap authenticated request that says whether the credential works.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// May name API-key fields (`{account_sid}`, `{base_url}`) or, for OAuth, the
    /// provider app's identity endpoint (`{userinfo_url}`), so it follows a site.
    pub url: String,
    #[serde(default)]
    pub method: HttpMethod,
    /// A JSON body for a POST check (a GraphQL query).
    pub body: Option<String>,
    #[serde(default)]
    pub auth: CheckAuth,
    /// Extra request headers (e.g. an API version).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A field of the answer that names the account, as a template.
    pub account: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum CheckAuth {
    /// `Authorization: Bearer` with the access token or the key.
    #[default]
    Bearer,
    /// HTTP Basic; templates over the key fields.
    Basic { username: String, password: String },
    /// A header of the service's own; the value is a template over the key fields.
    Header { name: String, value: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// Where the person creates a key.
    pub create_url: String,
    pub fields: Vec<KeyFieldSpec>,
    /// The field `grantkeeper token` prints.
    pub token_field: String,
    /// The API's address, which a person may change for a regional or compatible
    /// endpoint; check URLs use it as `{base_url}`.
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFieldSpec {
    pub id: String,
    pub label: String,
    /// Secret fields go to the keychain and are never shown again.
    pub secret: bool,
    /// How the value starts, when the service documents a prefix (`sk-`).
    pub prefix: Option<String>,
}
