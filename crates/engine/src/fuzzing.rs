//! Ways in for the fuzz targets in `fuzz/` (cargo-fuzz). Each function hands untrusted
//! bytes to the engine's own parsing code, the code the app runs, with the network taken
//! out. Built only with the `fuzzing` feature; not an API.

use std::cell::RefCell;
use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use oauth2::{AuthorizationCode, DeviceAuthorizationUrl, StandardDeviceAuthorizationResponse};
use url::Url;

// For the catalog checks below, which name their siblings as `super::schema` and
// `super::template`.
use crate::catalog::{schema, template, Catalog};
use crate::http::{HttpClient, HttpError};
use crate::oauth::{
    oauth_client, token_endpoint, token_error, Callback, CallbackListener, DeviceAuthorization, Expected,
    Grant, SigningKeys,
};
use crate::provider::{Discovered, ProviderRecord};
use crate::store::ProviderAppRow;
use crate::{Result, Secret};

// The checks build.rs runs on the catalog, compiled the way build.rs compiles them. The
// crate builds them only for its tests, so a test build with this feature has two copies.
#[path = "catalog/validate.rs"]
#[allow(clippy::duplicate_mod)]
mod validate;

/// What the loopback listener made of one connection.
#[derive(Debug)]
pub struct ListenerAnswer {
    /// The bytes it wrote back: an error page, or nothing for this flow's callback (the
    /// flow answers that one) and for a connection it closed unanswered.
    pub written: Vec<u8>,
    /// For this flow's callback, what the flow ends with.
    pub callback: Option<Result<CallbackResult>>,
}

#[derive(Debug)]
pub enum CallbackResult {
    Code(String),
    Error { error: String, description: Option<String> },
}

/// A connection to the callback listener of the flow waiting for `state` (and, when
/// given, RFC 9207 `iss` = `expected_issuer`) that sends `request` and then closes.
pub fn callback_request(request: &[u8], state: &str, expected_issuer: Option<&str>) -> ListenerAnswer {
    let (written, callback) = CallbackListener::screen_request(request, state, expected_issuer);
    let callback = callback.map(|outcome| {
        outcome.map(|callback| match callback {
            Callback::Code(code) => CallbackResult::Code(code.expose().to_owned()),
            Callback::Error { error, description } => CallbackResult::Error { error, description },
        })
    });
    ListenerAnswer { written, callback }
}

/// What a token response gave.
#[derive(Debug)]
pub struct TokenGrant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub expires_in: Option<Duration>,
    pub refresh_token_lifetime: Option<Duration>,
}

/// Catalog providers whose token endpoints differ (GitHub's and Slack's answers, Notion's
/// JSON requests, provider error codes), and "custom": a provider without a catalog entry.
pub const TOKEN_PROVIDERS: &[&str] =
    &["custom", "google", "github", "github-app", "slack", "notion", "atlassian"];

/// The one answer a fuzzed endpoint gives, through the provider's answer quirks as a
/// real response would go; the transport hands it out once.
fn canned_answer(
    record: &ProviderRecord,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> RefCell<Option<oauth2::HttpResponse>> {
    static HTTP: LazyLock<HttpClient> = LazyLock::new(|| HttpClient::new().expect("an HTTP client"));
    let answer = http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(body.to_vec())
        .expect("a valid status and content type");
    RefCell::new(Some(token_endpoint(record, &HTTP).normalize(answer)))
}

/// A token endpoint's answer to a code exchange at `provider` (one of
/// [`TOKEN_PROVIDERS`]), through the same quirks, `oauth2` parsing and error mapping as a
/// real exchange. `content_type` must be a valid header value.
pub fn token_response(provider: &str, status: u16, content_type: &str, body: &[u8]) -> Result<TokenGrant> {
    let record = provider_record(provider);
    let answer = canned_answer(&record, status, content_type, body);
    let transport =
        |_: oauth2::HttpRequest| Ok::<_, HttpError>(answer.borrow_mut().take().expect("one request"));
    let token_url = Url::parse(&record.endpoints.token_url).expect("catalog URLs are valid");
    let response = oauth_client(&record, None)?
        .exchange_code(AuthorizationCode::new("fuzz-code".into()))
        .request(&transport)
        .map_err(|e| token_error(e, &record.name, &token_url, &[]))?;
    let grant = Grant::from_answer(&response, &record.name)?;
    Ok(TokenGrant {
        access_token: grant.tokens.access_token.expose().to_owned(),
        refresh_token: grant.tokens.refresh_token.map(|t| t.expose().to_owned()),
        id_token: grant.tokens.id_token.map(|t| t.expose().to_owned()),
        refresh_token_lifetime: grant.extras.refresh_token_lifetime(),
        scopes: grant.scopes,
        expires_in: grant.expires_in,
    })
}

/// What a device authorization answer gave.
#[derive(Debug)]
pub struct DeviceAnswer {
    /// The page shown to the person.
    pub verification_url: Url,
    pub user_code: String,
    pub expires_in: Duration,
    /// How long to wait between polls.
    pub interval: Duration,
}

/// Catalog providers with sign-in by code: GitHub answers form-encoded unless asked for
/// JSON and sends errors with HTTP 200; the others answer as RFC 8628 §3.2 says.
pub const DEVICE_PROVIDERS: &[&str] = &["google", "github", "microsoft", "gitlab"];

/// A device authorization endpoint's answer at `provider` (one of
/// [`DEVICE_PROVIDERS`]), through the same quirks, `oauth2` parsing, error mapping and
/// checks of what is shown as a real device sign-in.
pub fn device_authorization_answer(
    provider: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<DeviceAnswer> {
    let record = provider_record(provider);
    let answer = canned_answer(&record, status, content_type, body);
    let transport =
        |_: oauth2::HttpRequest| Ok::<_, HttpError>(answer.borrow_mut().take().expect("one request"));
    let device_url =
        record.endpoints.device_authorization_url.clone().expect("a provider with sign-in by code");
    let device_url = DeviceAuthorizationUrl::new(device_url).expect("catalog URLs are valid");
    let details: StandardDeviceAuthorizationResponse = oauth_client(&record, None)?
        .set_device_authorization_url(device_url.clone())
        .exchange_device_code()
        .request(&transport)
        .map_err(|e| token_error(e, &record.name, device_url.url(), &[]))?;
    let interval = details.interval();
    let device = DeviceAuthorization::of(&record, details, None, &[])?;
    Ok(DeviceAnswer {
        verification_url: device.verification_url,
        user_code: device.user_code,
        expires_in: device.expires_in,
        interval,
    })
}

/// OpenID providers whose ID tokens are checked: Google (fixed issuers), Microsoft
/// (issuers naming the token's tenant) and a custom provider (its discovered issuer,
/// [`CUSTOM_ISSUER`]). Their provider app's client id is [`ID_TOKEN_CLIENT_ID`].
pub const ID_TOKEN_PROVIDERS: &[&str] = &["google", "microsoft", "custom"];
pub const CUSTOM_ISSUER: &str = "https://issuer.fuzz.example";
pub const ID_TOKEN_CLIENT_ID: &str = "fuzz-client";
/// The client secret HS256 tokens are signed with, when the check is given one.
pub const ID_TOKEN_CLIENT_SECRET: &str = "fuzz-client-secret";
/// The nonce a sign-in sent; the account (`sub`) of the sign-in a refresh follows.
pub const ID_TOKEN_NONCE: &str = "fuzz-nonce";
pub const ID_TOKEN_SUBJECT: &str = "fuzz-sub";
/// The Microsoft tenant (`tid`) the seeds' tokens name.
pub const ID_TOKEN_TENANT: &str = "f0220000-0000-4000-8000-000000000001";

/// Checks `id_token` from `provider` (one of [`ID_TOKEN_PROVIDERS`]) against the keys in
/// the JWKS document `jwks`, as a sign-in (nonce [`ID_TOKEN_NONCE`]) or as a refresh
/// after a sign-in of [`ID_TOKEN_SUBJECT`] with that nonce. Err: why it was refused.
pub fn id_token(
    provider: &str,
    jwks: &[u8],
    id_token: &str,
    with_client_secret: bool,
    refresh: bool,
) -> std::result::Result<(), String> {
    let keys = SigningKeys::from_document(jwks).map_err(|e| e.to_string())?;
    let mut record = provider_record(provider);
    record.app.client_id = ID_TOKEN_CLIENT_ID.into();
    let issuer = match provider {
        "custom" => CUSTOM_ISSUER.to_owned(),
        _ => record.id_token_issuers[0].replace("{tid}", ID_TOKEN_TENANT),
    };
    // The sign-in's own token, as the keychain keeps it (its signature is not read).
    let claims = serde_json::json!({
        "iss": issuer, "sub": ID_TOKEN_SUBJECT, "aud": ID_TOKEN_CLIENT_ID, "nonce": ID_TOKEN_NONCE,
    });
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let previous =
        Secret::new(format!("{}.{}.", encode(br#"{"alg":"RS256"}"#), encode(claims.to_string().as_bytes())));
    let nonce = Secret::new(ID_TOKEN_NONCE);
    let expected = match refresh {
        true => Expected::Refresh { previous: Some(&previous) },
        false => Expected::SignIn { nonce: Some(&nonce) },
    };
    let secret = Secret::new(ID_TOKEN_CLIENT_SECRET);
    let secret = with_client_secret.then_some(&secret);
    keys.check(&Secret::new(id_token), &record, secret, expected).map_err(|e| e.to_string())
}

fn provider_record(provider: &str) -> ProviderRecord {
    let builtin = |id: &str| {
        let spec = Catalog::builtin().provider(id).expect("a catalog provider");
        ProviderRecord::builtin(id, spec, ProviderAppRow::public_client(id, "fuzz-client"))
    };
    match provider {
        "custom" => ProviderRecord {
            spec: None,
            issuer: Some(CUSTOM_ISSUER.into()),
            id_token_issuers: vec![CUSTOM_ISSUER.into()],
            ..builtin("google")
        },
        id => builtin(id),
    }
}

/// An OpenID configuration document that `issuer` served at
/// `/.well-known/openid-configuration`.
pub fn discovery_document(issuer: &Url, body: &[u8]) -> Result<Discovered> {
    Discovered::from_document(issuer, body)
}

/// A catalog file: parsed as build.rs parses `catalog.toml`, then the problems its
/// checks find (empty for a valid catalog).
pub fn catalog(text: &str) -> std::result::Result<Vec<String>, String> {
    let file: schema::CatalogFile = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(validate::problems(&file))
}
