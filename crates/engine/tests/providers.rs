//! The catalog's providers against local emulators of their documented OAuth
//! endpoints (tests/emulators/providers.mjs): every quirk the catalog records is
//! sent, parsed and classified as that provider does it, with the real keychain and
//! SQLite file.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{emulator_and_engine, endpoints_set, engine_using_emulator, use_emulator, Setup};
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::api::Revocation;
use grantkeeper_engine::api::{NewProvider, ProviderAppInput};
use grantkeeper_engine::catalog::{Catalog, ClientAuth};
use grantkeeper_engine::git_credentials::GitCredentialRequest;
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::provider::EndpointOverrides;
use grantkeeper_engine::Config;
use grantkeeper_engine::{Connection, ConnectionStatus, Engine, Error, EventKind};
use grantkeeper_test_support::{
    browser_command, contains, data_dir_bytes, fixed_port_sign_in, forward, secret_tool_keys,
    secret_tool_lookup, BrowserMode, ProviderEmulator, EMULATED_CLIENT_ID, EMULATED_CLIENT_SECRET,
};
use serde_json::Value;

/// A provider app with a client ID and secret (any will do), for a test to add the
/// field it checks to.
fn app_with_secret() -> ProviderAppInput {
    ProviderAppInput {
        client_id: Some("id".into()),
        client_secret: Some("secret".into()),
        ..ProviderAppInput::default()
    }
}

async fn connect(engine: &Arc<Engine>, integration: &str, name: &str) -> Connection {
    let options = ConnectOptions { name: Some(name.into()), ..ConnectOptions::default() };
    let _turn = fixed_port_sign_in().await;
    engine.connect(integration, options).await.unwrap().outcome.await.unwrap().unwrap()
}

async fn reconnect(engine: &Arc<Engine>, connection: &str) -> Connection {
    let _turn = fixed_port_sign_in().await;
    engine.reconnect(connection).await.unwrap().outcome.await.unwrap().unwrap()
}

/// The requests the emulator saw at one provider's endpoint.
async fn requests(emulator: &ProviderEmulator, provider: &str, endpoint: &str) -> Vec<Value> {
    let path = format!("/{provider}/{endpoint}");
    emulator.log().await.into_iter().filter(|r| r["path"] == path.as_str()).collect()
}

fn form(request: &Value) -> url::form_urlencoded::Parse<'_> {
    url::form_urlencoded::parse(request["body"].as_str().unwrap().as_bytes())
}

fn form_field(request: &Value, name: &str) -> Option<String> {
    form(request).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn stored_access_token(engine: &Engine, connection: &str) -> String {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| runtime.block_on(engine.access_token(connection, Duration::ZERO)))
        .unwrap()
        .1
        .expose()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn google_grows_one_grant_per_account_and_keeps_accounts_apart() {
    let (emulator, setup, engine) = engine_using_emulator("google", true).await;

    drive_signs_in_the_way_google_documents(&engine, &emulator).await;
    let first_refresh_token = stored_refresh_token(&setup.service);
    let gmail = gmail_grows_the_same_grant(&engine, &emulator).await;

    // Another account is another credential, side by side.
    emulator.sign_in_as("bob").await;
    let calendar = connect(&engine, "google-calendar", "Bob's calendar").await;
    assert_eq!(calendar.account.as_deref(), Some("bob@example.test"));
    assert_ne!(stored_access_token(&engine, "Bob's calendar"), stored_access_token(&engine, "Mail"));

    // A refresh keeps the (non-rotating) refresh token and serves both connections.
    let before = stored_access_token(&engine, "Mail");
    engine.refresh_now("Mail").await.unwrap();
    let refreshes = requests(&emulator, "google", "token").await;
    let presented: Vec<String> = refreshes.iter().filter_map(|r| form_field(r, "refresh_token")).collect();
    assert_eq!(
        presented,
        [first_refresh_token],
        "one refresh, with the refresh token kept from the first grant"
    );
    assert_ne!(stored_access_token(&engine, "Drive"), before);
    engine.refresh_now("Drive").await.unwrap();

    // Ada withdraws consent: her two connections need reauthorizing, Bob's does not.
    emulator.revoke("google", "ada").await;
    let error = engine.refresh_now(&gmail.id).await.unwrap_err();
    assert!(matches!(error, Error::NeedsReauthorization { .. }), "{error}");
    let statuses: Vec<(String, ConnectionStatus)> =
        engine.connections().unwrap().into_iter().map(|c| (c.name, c.status)).collect();
    assert!(statuses.contains(&("Drive".into(), ConnectionStatus::Reauthorize)), "{statuses:?}");
    assert!(statuses.contains(&("Mail".into(), ConnectionStatus::Reauthorize)), "{statuses:?}");
    assert!(statuses.contains(&("Bob's calendar".into(), ConnectionStatus::Active)), "{statuses:?}");
}

async fn drive_signs_in_the_way_google_documents(engine: &Arc<Engine>, emulator: &ProviderEmulator) {
    let drive = connect(engine, "google-drive", "Drive").await;
    assert_eq!(drive.status, ConnectionStatus::Active);
    assert_eq!(drive.account.as_deref(), Some("ada@example.test"));
    assert_eq!((drive.integration.as_str(), drive.provider.as_str()), ("google-drive", "Google"));
    let first = &requests(emulator, "google", "authorize").await[0]["query"];
    assert_eq!(first["access_type"], "offline");
    assert_eq!(first["include_granted_scopes"], "true");
    assert_eq!(first["prompt"], "consent");
    assert_eq!(first["code_challenge_method"], "S256");
    assert_eq!(first["scope"], "openid email https://www.googleapis.com/auth/drive.readonly");
    // Google takes the client credentials in the body, as its docs show.
    let exchange = &requests(emulator, "google", "token").await[0];
    assert_eq!(form_field(exchange, "client_secret").as_deref(), Some(EMULATED_CLIENT_SECRET));
    assert!(exchange["headers"]["authorization"].is_null());
}

/// The refresh token of the one credential in the keychain.
fn stored_refresh_token(service: &str) -> String {
    let key = secret_tool_keys(service).into_iter().find(|k| k.starts_with("credential/")).unwrap();
    let stored: Value = serde_json::from_str(&secret_tool_lookup(service, &key).unwrap()).unwrap();
    stored["refresh_token"].as_str().unwrap().to_owned()
}

/// Gmail on the same account asks only for Gmail's scope and grows the same grant; the
/// answer carries no refresh token this time, so the one already held is kept.
async fn gmail_grows_the_same_grant(engine: &Arc<Engine>, emulator: &ProviderEmulator) -> Connection {
    emulator.omit_next_refresh_token().await;
    let gmail = connect(engine, "Gmail", "Mail").await;
    let second = &requests(emulator, "google", "authorize").await[1]["query"];
    assert_eq!(second["scope"], "openid email https://www.googleapis.com/auth/gmail.readonly");
    let connections = engine.connections().unwrap();
    assert_eq!(connections.len(), 2);
    for connection in &connections {
        assert_eq!(connection.status, ConnectionStatus::Active, "{connection:?}");
        assert!(connection.scopes.iter().any(|s| s.ends_with("drive.readonly")));
        assert!(connection.scopes.iter().any(|s| s.ends_with("gmail.readonly")));
    }
    assert_eq!(stored_access_token(engine, "Drive"), stored_access_token(engine, "Mail"), "one credential");
    gmail
}

#[tokio::test(flavor = "multi_thread")]
async fn microsoft_public_client_on_localhost_with_rotating_refresh_tokens() {
    let (emulator, _setup, engine) = engine_using_emulator("microsoft", false).await;

    let mail = connect(&engine, "outlook-mail", "Outlook").await;
    // Graph reports scopes without their prefix; they still count as granted.
    assert_eq!(mail.status, ConnectionStatus::Active, "{mail:?}");
    assert!(mail.missing_scopes.is_empty());
    assert_eq!(mail.account.as_deref(), Some("ada@example.test"));
    let authorize = &requests(&emulator, "microsoft", "authorize").await[0]["query"];
    assert!(authorize["redirect_uri"].as_str().unwrap().starts_with("http://localhost:"), "{authorize}");
    assert_eq!(
        authorize["scope"],
        "openid profile offline_access User.Read https://graph.microsoft.com/Mail.Read"
    );
    let exchange = &requests(&emulator, "microsoft", "token").await[0];
    assert_eq!(form_field(exchange, "client_id").as_deref(), Some(EMULATED_CLIENT_ID));
    assert_eq!(form_field(exchange, "client_secret"), None, "a public client sends no secret");

    // Each refresh hands out a new refresh token; the next refresh must use it.
    engine.refresh_now("Outlook").await.unwrap();
    engine.refresh_now("Outlook").await.unwrap();
    let refreshes: Vec<String> = requests(&emulator, "microsoft", "token")
        .await
        .iter()
        .filter_map(|r| form_field(r, "refresh_token"))
        .collect();
    assert_eq!(refreshes.len(), 2);
    assert_ne!(refreshes[0], refreshes[1], "the rotated refresh token was stored and used");
}

/// A refresh Microsoft answers with `interaction_required` (its administrator now
/// requires multi-factor authentication) cannot pass by waiting: the connection needs
/// the person at once, with Microsoft's words, and a reconnect brings it back.
#[tokio::test(flavor = "multi_thread")]
async fn a_provider_asking_for_the_person_at_refresh_means_reauthorize_not_retry() {
    let (emulator, _setup, engine) = engine_using_emulator("microsoft", false).await;
    connect(&engine, "outlook-mail", "Outlook").await;
    emulator.break_next_token_answer("interaction_required").await;
    let error = engine.refresh_now("Outlook").await.unwrap_err();
    let Error::NeedsReauthorization { reason, .. } = &error else { panic!("not Reauthorize: {error}") };
    assert!(reason.contains("asks you to sign in again") && reason.contains("AADSTS50076"), "{reason}");
    let connection = engine.connection("Outlook").unwrap();
    assert_eq!(connection.status, ConnectionStatus::Reauthorize, "{connection:?}");
    let refused = engine.access_token("Outlook", Duration::ZERO).await.unwrap_err();
    assert!(
        matches!(refused, Error::NeedsReauthorization { .. }),
        "no token while it needs the person: {refused}"
    );

    let connection = reconnect(&engine, "Outlook").await;
    assert_eq!(connection.status, ConnectionStatus::Active);
    engine.refresh_now("Outlook").await.unwrap();
}

/// A refusal that quotes back the refresh token and client secret it was sent: neither
/// reaches the error, the connection's status, the activity log or any file.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_a_provider_quotes_back_are_redacted() {
    let (emulator, setup, engine) = engine_using_emulator("google", true).await;
    connect(&engine, "gmail", "Mail").await;
    emulator.break_next_token_answer("echo_grant").await;
    let error = engine.refresh_now("Mail").await.unwrap_err().to_string();
    let refresh = requests(&emulator, "google", "token").await;
    let sent = refresh.iter().find_map(|r| form_field(r, "refresh_token")).expect("a refresh was sent");
    assert!(error.contains("unknown refresh_token [redacted] (client_secret [redacted])"), "{error}");
    let reason = engine.connection("Mail").unwrap().status_reason.unwrap_or_default();
    let activity = format!("{:?}", engine.activity(10).unwrap());
    for text in [&error, &reason, &activity] {
        assert!(!text.contains(&sent) && !text.contains(EMULATED_CLIENT_SECRET), "{text}");
    }
    // Spotify takes the client's secret in an `Authorization: Basic` header: quoted back
    // as it came, base64 and all, it is redacted whole.
    use_emulator(&engine, &emulator, "spotify", true).await;
    connect(&engine, "spotify", "Music").await;
    emulator.break_next_token_answer("echo_grant").await;
    let error = engine.refresh_now("Music").await.unwrap_err().to_string();
    assert!(error.contains("(client_secret Basic [redacted])"), "{error}");
    let reason = engine.connection("Music").unwrap().status_reason.unwrap_or_default();
    let activity = format!("{:?}", engine.activity(10).unwrap());
    let header = requests(&emulator, "spotify", "token").await[0]["headers"]["authorization"].clone();
    let basic = header.as_str().expect("a Basic header was sent").trim_start_matches("Basic ").to_owned();
    for text in [&error, &reason, &activity] {
        assert!(!text.contains(&basic), "{text}");
    }
    let files = data_dir_bytes(setup.home.path());
    assert!(
        !contains(&files, &sent) && !contains(&files, EMULATED_CLIENT_SECRET) && !contains(&files, &basic)
    );
}

/// A sign-in whose account cannot be learnt (Dropbox's account endpoint down) is not
/// kept, and the grant it made is revoked, not left at the provider with nobody holding it.
#[tokio::test(flavor = "multi_thread")]
async fn a_grant_whose_account_cannot_be_learnt_is_revoked() {
    let (emulator, setup, engine) = engine_using_emulator("dropbox", true).await;
    emulator.identity_down(true).await;
    let options = ConnectOptions { name: Some("Files".into()), ..ConnectOptions::default() };
    let _turn = fixed_port_sign_in().await;
    let ended = engine.connect("dropbox", options).await.unwrap().outcome.await.unwrap();
    assert!(ended.is_err(), "not kept");
    assert!(engine.connections().unwrap().is_empty());
    assert!(!secret_tool_keys(&setup.service).iter().any(|k| k.starts_with("credential/")));
    assert_eq!(requests(&emulator, "dropbox", "revoke").await.len(), 1, "the grant is revoked");
    assert_eq!(emulator.grant_revoked("dropbox", "ada").await, Some(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn github_oauth_app_and_github_app_tokens() {
    let (emulator, _setup, engine) = engine_using_emulator("github", true).await;
    use_emulator(&engine, &emulator, "github-app", true).await;

    // OAuth App: comma-separated scopes in the answer; a token that does not expire.
    let github = connect(&engine, "github", "GitHub").await;
    assert_eq!(github.account.as_deref(), Some("ada"));
    assert_eq!(github.scopes, ["repo", "read:user"]);
    assert_eq!(github.status, ConnectionStatus::Active);
    assert!(github.expires_at.is_none());
    let authorize = &requests(&emulator, "github", "authorize").await[0]["query"];
    assert_eq!(authorize["scope"], "repo read:user");
    let exchange = &requests(&emulator, "github", "token").await[0];
    assert!(exchange["headers"]["accept"].as_str().unwrap().contains("application/json"));

    // GitHub App: tokens expire, refresh tokens are single-use and lapse after six
    // months, which the connection shows so the window can warn ahead of time.
    let app = connect(&engine, "github-app", "GitHub App").await;
    assert!(app.expires_at.is_some());
    let lapse = app.refresh_token_expires_at.expect("GitHub says when the refresh token lapses");
    let months = lapse - grantkeeper_engine::Timestamp::now();
    assert!(months > time::Duration::days(180) && months < time::Duration::days(185), "{months}");
    assert!(github.refresh_token_expires_at.is_none());
    engine.refresh_now("GitHub App").await.unwrap();
    engine.refresh_now("GitHub App").await.unwrap();
    // Revoked at GitHub: its error comes with HTTP 200 and its own code, and still
    // means the grant is gone.
    emulator.revoke("github-app", "ada").await;
    let error = engine.refresh_now("GitHub App").await.unwrap_err();
    assert!(matches!(error, Error::NeedsReauthorization { .. }), "{error}");
    assert!(error.to_string().contains("bad_refresh_token"), "{error}");
    assert_eq!(engine.connection("GitHub").unwrap().status, ConnectionStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_apps_are_checked_before_any_sign_in() {
    let (emulator, _setup, engine) = emulator_and_engine();

    let missing = engine.connect("gmail", ConnectOptions::default()).await.err().unwrap();
    assert!(matches!(missing, Error::ProviderAppMissing { .. }), "{missing}");
    assert!(missing.to_string().contains("providers set google"), "{missing}");
    // Removing what is not there says so, rather than how to set it up.
    let none = engine.remove_provider("google", false).await.unwrap_err();
    assert!(matches!(none, Error::NotFound { what: "provider app", .. }), "{none}");
    assert_eq!(none.to_string(), "No provider app named or numbered “Google”.");

    // Google requires the client secret; nothing is saved without it.
    let input = ProviderAppInput { client_id: Some("id".into()), ..ProviderAppInput::default() };
    let error = engine.set_provider_app("google", input).await.unwrap_err();
    assert_eq!(error.field(), Some("client_secret"));
    assert!(engine.providers().unwrap().is_empty());
    let input = endpoints_set(|set| set.token_url = Some("http://example.com/token".into()));
    assert_eq!(engine.set_provider_app("google", input).await.unwrap_err().field(), Some("client_id"));

    use_emulator(&engine, &emulator, "google", true).await;
    let unknown = ConnectOptions { scopes: vec!["gmail.everything".into()], ..ConnectOptions::default() };
    let error = engine.connect("gmail", unknown).await.err().unwrap();
    assert_eq!(error.field(), Some("scopes"));
    let error = engine.connect("openai", ConnectOptions::default()).await.err().unwrap();
    assert!(error.to_string().contains("API key"), "{error}");
    let error = engine.connect("google", ConnectOptions::default()).await.err().unwrap();
    assert!(error.to_string().contains("Gmail"), "{error}");

    // A disabled provider app starts no sign-in; a blank secret on edit keeps the old one.
    let disable = ProviderAppInput { enabled: Some(false), ..ProviderAppInput::default() };
    let google = engine.set_provider_app("Google", disable).await.unwrap();
    assert!(!google.enabled);
    assert_eq!(google.client_secret_last4.as_deref(), Some("5d1e"));
    let error = engine.connect("gmail", ConnectOptions::default()).await.err().unwrap();
    assert!(matches!(error, Error::ProviderAppDisabled { .. }), "{error}");
    assert!(requests(&emulator, "google", "authorize").await.is_empty());

    // Overrides are https or loopback only, and a blank one returns to Google's own.
    let bad = endpoints_set(|set| set.token_url = Some("http://example.com/token".into()));
    assert_eq!(engine.set_provider_app("google", bad).await.unwrap_err().field(), Some("token_url"));
    // An authorize URL that already sets what the request sends would send it twice.
    let twice = endpoints_set(|set| {
        set.authorize_url = Some("https://accounts.google.com/o/oauth2/v2/auth?response_type=token".into())
    });
    let error = engine.set_provider_app("google", twice).await.unwrap_err();
    assert_eq!(error.field(), Some("authorize_url"), "{error}");
    assert!(error.to_string().contains("“response_type”"), "{error}");
    let reset = endpoints_set(|set| set.token_url = Some(String::new()));
    let google = engine.set_provider_app("google", reset).await.unwrap();
    assert_eq!(google.endpoints.token_url, "https://oauth2.googleapis.com/token");
    assert!(!google.overridden.contains(&"token_url".to_owned()));
    assert_eq!(google.app_setup.redirect_uri.as_deref(), Some("http://127.0.0.1/callback"));
    assert!(google.app_setup.setup.iter().any(|step| step.contains("http://127.0.0.1/callback")));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_device_sign_in_endpoint_can_be_set_by_hand_and_cleared() {
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    let own = "https://github.com/login/device/code";
    let set = ProviderAppInput {
        endpoints: EndpointOverrides {
            device_authorization_url: Some("https://device.example.com/code".into()),
            ..Default::default()
        },
        ..app_with_secret()
    };
    let github = engine.set_provider_app("github", set).await.unwrap();
    assert_eq!(github.endpoints.device_authorization_url.as_deref(), Some("https://device.example.com/code"));
    assert_eq!(github.overridden, ["device_authorization_url"]);
    let plain =
        endpoints_set(|set| set.device_authorization_url = Some("http://device.example.com/code".into()));
    let error = engine.set_provider_app("github", plain).await.unwrap_err();
    assert_eq!(error.field(), Some("device_authorization_url"), "{error}");
    let cleared = endpoints_set(|set| set.device_authorization_url = Some(String::new()));
    let github = engine.set_provider_app("github", cleared).await.unwrap();
    assert_eq!(github.endpoints.device_authorization_url.as_deref(), Some(own));
    assert!(github.overridden.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn sites_fill_self_hosted_and_tenant_endpoints() {
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    let input = ProviderAppInput { site: Some("https://github.example.com/".into()), ..app_with_secret() };
    let github = engine.set_provider_app("github", input).await.unwrap();
    assert_eq!(github.endpoints.authorize_url, "https://github.example.com/login/oauth/authorize");
    assert_eq!(github.endpoints.userinfo_url.as_deref(), Some("https://github.example.com/api/v3/user"));
    assert_eq!(
        github.endpoints.revocation_url.as_deref(),
        Some("https://github.example.com/api/v3/applications/id/grant")
    );

    let input = ProviderAppInput {
        client_id: Some("id".into()),
        site: Some("contoso.onmicrosoft.com".into()),
        ..ProviderAppInput::default()
    };
    let microsoft = engine.set_provider_app("microsoft", input).await.unwrap();
    assert_eq!(
        microsoft.endpoints.authorize_url,
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
    );
    let query = ProviderAppInput {
        site: Some("https://github.example.com/?x=".into()),
        ..ProviderAppInput::default()
    };
    assert_eq!(engine.set_provider_app("github", query).await.unwrap_err().field(), Some("site"));
    let bad = ProviderAppInput { site: Some("contoso/../evil".into()), ..ProviderAppInput::default() };
    assert_eq!(engine.set_provider_app("microsoft", bad).await.unwrap_err().field(), Some("site"));
    let bad = ProviderAppInput { site: Some("https://x.example".into()), ..app_with_secret() };
    let error = engine.set_provider_app("google", bad).await.unwrap_err();
    assert_eq!(error.field(), Some("site"), "{error}");
}

/// What one provider's round trip should look like.
struct Expected {
    provider: &'static str,
    integration: &'static str,
    with_secret: bool,
    account: &'static str,
    /// Authorize parameters the provider's docs require.
    authorize: &'static [(&'static str, &'static str)],
    /// Whether a refresh token comes back (and so "Refresh now" works).
    refreshes: bool,
    /// What removing the last connection does at the provider.
    revocation: Revocation,
}

/// The catalog's other providers, one round trip each.
const ROUND_TRIPS: [Expected; 16] = [
    Expected {
        provider: "slack",
        integration: "slack",
        with_secret: false,
        account: "ada (Example)",
        authorize: &[("user_scope", "channels:read,channels:history,groups:read,groups:history,im:history,users:read,search:read,chat:write"), ("code_challenge_method", "S256")],
        refreshes: false,
        revocation: Revocation::Revoked,
    },
    Expected {
        provider: "notion",
        integration: "notion",
        with_secret: true,
        account: "ada@example.test (Example)",
        authorize: &[("owner", "user")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    Expected {
        provider: "dropbox",
        integration: "dropbox",
        with_secret: false,
        account: "ada@example.test",
        authorize: &[("token_access_type", "offline"), ("include_granted_scopes", "user")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    Expected {
        provider: "spotify",
        integration: "spotify",
        with_secret: false,
        account: "ada@example.test",
        authorize: &[("code_challenge_method", "S256")],
        refreshes: true,
        revocation: Revocation::NotOffered,
    },
    // Zoom's public client ID (Use Public Client OAuth): PKCE and no secret.
    Expected {
        provider: "zoom",
        integration: "zoom",
        with_secret: false,
        account: "ada@example.test",
        authorize: &[("code_challenge_method", "S256")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    Expected {
        provider: "atlassian",
        integration: "jira",
        with_secret: true,
        account: "ada@example.test",
        authorize: &[("audience", "api.atlassian.com"), ("prompt", "consent")],
        refreshes: true,
        revocation: Revocation::NotOffered,
    },
    // Comma-separated scopes; identity by a GraphQL `viewer` query; single-use refresh
    // tokens; revoked with a live access token.
    Expected {
        provider: "linear",
        integration: "linear",
        with_secret: true,
        account: "ada@example.test",
        authorize: &[("scope", "read,write"), ("code_challenge_method", "S256")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    // Single-use refresh tokens (the emulator refuses a second use and ends the grant).
    Expected {
        provider: "box",
        integration: "box",
        with_secret: true,
        account: "ada@example.test",
        authorize: &[("response_type", "code")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    Expected {
        provider: "bitbucket",
        integration: "bitbucket",
        with_secret: true,
        account: "ada",
        authorize: &[("response_type", "code")],
        refreshes: true,
        revocation: Revocation::NotOffered,
    },
    Expected {
        provider: "hubspot",
        integration: "hubspot",
        with_secret: true,
        account: "app.hubspot.com (41001)",
        authorize: &[
            ("scope", "oauth crm.objects.contacts.read crm.objects.contacts.write crm.objects.companies.read crm.objects.deals.read"),
            ("code_challenge_method", "S256"),
        ],
        refreshes: true,
        revocation: Revocation::NotOffered,
    },
    Expected {
        provider: "asana",
        integration: "asana",
        with_secret: true,
        account: "ada@example.test",
        authorize: &[("scope", "default"), ("code_challenge_method", "S256")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    // A public client (PKCE, no secret) whose authorization responses carry `iss`.
    Expected {
        provider: "discord",
        integration: "discord",
        with_secret: false,
        account: "ada@example.test",
        authorize: &[("scope", "identify email guilds"), ("code_challenge_method", "S256")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    // PKCE public client; offline.access brings the refresh token, which rotates.
    Expected {
        provider: "x",
        integration: "x",
        with_secret: false,
        account: "@ada",
        authorize: &[
            ("scope", "users.read offline.access tweet.read tweet.write bookmark.read"),
            ("code_challenge_method", "S256"),
        ],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    // An installed app: HTTP Basic with an empty secret, duration=permanent, its own
    // User-Agent (the emulator answers 429 to any other).
    Expected {
        provider: "reddit",
        integration: "reddit",
        with_secret: false,
        account: "u/ada",
        authorize: &[("duration", "permanent"), ("scope", "identity read history mysubreddits submit")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    Expected {
        provider: "salesforce",
        integration: "salesforce",
        with_secret: false,
        account: "ada@example.test",
        authorize: &[("scope", "refresh_token openid api"), ("code_challenge_method", "S256")],
        refreshes: true,
        revocation: Revocation::Revoked,
    },
    // Refreshes at its own endpoint (the emulator's token endpoint refuses them).
    Expected {
        provider: "figma",
        integration: "figma",
        with_secret: true,
        account: "ada@example.test",
        authorize: &[
            (
                "scope",
                "current_user:read file_content:read file_metadata:read file_comments:read file_comments:write",
            ),
            ("code_challenge_method", "S256"),
        ],
        refreshes: true,
        revocation: Revocation::NotOffered,
    },
];

#[tokio::test(flavor = "multi_thread")]
async fn each_provider_connects_refreshes_and_revokes_its_own_way() {
    let (emulator, _setup, engine) = emulator_and_engine();
    for case in ROUND_TRIPS {
        round_trip(&engine, &emulator, case).await;
    }
    assert!(engine.connections().unwrap().is_empty());
}

/// Connects the case's integration, refreshes it until the provider withdraws consent
/// (where it refreshes at all), and removes it, checking each step against the case.
async fn round_trip(engine: &Arc<Engine>, emulator: &ProviderEmulator, case: Expected) {
    let provider = case.provider;
    use_emulator(engine, emulator, provider, case.with_secret).await;
    if case.revocation == Revocation::NotOffered {
        // The catalog names no revocation endpoint for it; the override goes too.
        let none = endpoints_set(|set| set.revocation_url = Some(String::new()));
        engine.set_provider_app(provider, none).await.unwrap();
    }
    let connection = connect(engine, case.integration, provider).await;
    assert_eq!(connection.status, ConnectionStatus::Active, "{provider}: {connection:?}");
    assert_eq!(connection.account.as_deref(), Some(case.account), "{provider}");
    let query = &requests(emulator, provider, "authorize").await[0]["query"];
    for (name, value) in case.authorize {
        assert_eq!(query[name], *value, "{provider}: {name} in {query}");
    }
    if case.refreshes {
        let before = stored_access_token(engine, provider);
        engine.refresh_now(provider).await.unwrap_or_else(|e| panic!("{provider}: {e}"));
        engine.refresh_now(provider).await.unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert_ne!(stored_access_token(engine, provider), before, "{provider}");
        // Consent withdrawn: the provider's own way of saying so (Atlassian: HTTP 403)
        // still means Reauthorize.
        emulator.revoke(provider, "ada").await;
        let error = engine.refresh_now(provider).await.unwrap_err();
        assert!(matches!(error, Error::NeedsReauthorization { .. }), "{provider}: {error}");
        // Reconnected, so that removal meets a live grant.
        reconnect(engine, provider).await;
    }
    let removal = engine.remove_connection(provider).await.unwrap();
    assert_eq!(removal.revocation, case.revocation, "{provider}: {removal:?}");
    let revocations = requests(emulator, provider, "revoke").await;
    match case.revocation {
        Revocation::Revoked => assert!(!revocations.is_empty(), "{provider} saw the revocation"),
        _ => assert!(revocations.is_empty(), "{provider}"),
    }
    let revoked = case.revocation == Revocation::Revoked;
    assert_eq!(
        emulator.grant_revoked(provider, "ada").await,
        Some(revoked),
        "{provider}: ended at the provider"
    );
}

/// Azure DevOps signs in with Microsoft 365's provider app (Entra): its resource's
/// `.default` scope with the OpenID scopes only, a credential apart from Microsoft 365's
/// (an Entra token is for one resource), the account from the ID token.
#[tokio::test(flavor = "multi_thread")]
async fn azure_devops_signs_in_with_the_microsoft_provider_app() {
    let (_emulator, _setup, without_app) = emulator_and_engine();
    let options = ConnectOptions::default();
    match without_app.connect("azure-devops", options).await.err().expect("no provider app") {
        Error::ProviderAppMissing { provider_id, .. } => assert_eq!(provider_id, "microsoft"),
        other => panic!("{other}"),
    }
    let (id, spec) = Catalog::builtin().integration("azure-devops").unwrap();
    assert_eq!(Catalog::builtin().view(id, spec).provider_id.as_deref(), Some("microsoft"));

    let (emulator, _setup, engine) = engine_using_emulator("microsoft", false).await;
    connect(&engine, "outlook-mail", "Outlook").await;
    let devops = connect(&engine, "azure-devops", "DevOps").await;
    assert_eq!(devops.status, ConnectionStatus::Active, "{devops:?}");
    assert!(devops.missing_scopes.is_empty(), "user_impersonation is what .default granted: {devops:?}");
    assert_eq!(devops.account.as_deref(), Some("ada@example.test"));
    let authorize = &requests(&emulator, "microsoft", "authorize").await[1]["query"];
    assert_eq!(authorize["client_id"], EMULATED_CLIENT_ID);
    assert_eq!(
        authorize["scope"],
        "openid profile offline_access 499b84ac-1321-427f-aa17-267ca6975798/.default"
    );
    let connections = engine.connections().unwrap();
    assert!(connections.iter().all(|c| c.shared_with.is_empty()), "two credentials: {connections:?}");

    engine.refresh_now("DevOps").await.unwrap();
    let refresh = requests(&emulator, "microsoft", "token").await.pop().unwrap();
    assert_eq!(form_field(&refresh, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(form_field(&refresh, "client_id").as_deref(), Some(EMULATED_CLIENT_ID));

    // One provider app serves both, and cannot go without the connections it serves.
    let apps = engine.providers().unwrap();
    assert_eq!(apps.iter().map(|p| (p.id.as_str(), p.connections)).collect::<Vec<_>>(), [("microsoft", 2)]);
    let borrowed = engine.remove_provider("azure-devops", false).await.unwrap_err();
    assert!(borrowed.to_string().contains("Microsoft 365's provider app"), "{borrowed}");
    let in_use = engine.remove_provider("microsoft", false).await.unwrap_err();
    assert!(in_use.to_string().contains("2 connection(s)"), "{in_use}");
    assert_eq!(engine.connections().unwrap().len(), 2, "nothing was removed");
}

/// Google and Discord: revoking the refresh token ends the whole grant (at Google its
/// access token is then answered `invalid_token`). One revocation, reported as revoked.
#[tokio::test(flavor = "multi_thread")]
async fn a_grant_that_ends_with_its_refresh_token_is_revoked_once() {
    for (provider, integration, with_secret) in [("google", "gmail", true), ("discord", "discord", false)] {
        let (emulator, _setup, engine) = engine_using_emulator(provider, with_secret).await;
        connect(&engine, integration, "Mail").await;
        let removal = engine.remove_connection("Mail").await.unwrap();
        assert_eq!(removal.revocation, Revocation::Revoked, "{provider}: {removal:?}");
        let revocations = requests(&emulator, provider, "revoke").await;
        assert_eq!(revocations.len(), 1, "{provider}: {revocations:?}");
        assert_eq!(form_field(&revocations[0], "token_type_hint").as_deref(), Some("refresh_token"));
        assert_eq!(emulator.grant_revoked(provider, "ada").await, Some(true), "{provider}");
    }
}

/// Dropbox revokes by the access token it is called with, and an expired one revokes
/// nothing (HTTP 401): removal first refreshes, so the grant really ends, and says
/// "revoked" only when Dropbox took the revocation.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_access_token_is_refreshed_before_it_revokes() {
    let (emulator, _setup, engine) = engine_using_emulator("dropbox", false).await;
    emulator.set_lifetimes(1, 1).await;
    connect(&engine, "dropbox", "Files").await;
    let signed_in = stored_access_token(&engine, "Files");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let removal = engine.remove_connection("Files").await.unwrap();
    assert_eq!(removal.revocation, Revocation::Revoked, "{removal:?}");
    assert_eq!(emulator.grant_revoked("dropbox", "ada").await, Some(true), "ended at Dropbox");
    let revocations = requests(&emulator, "dropbox", "revoke").await;
    assert_eq!(revocations.len(), 1, "{revocations:?}");
    let bearer = revocations[0]["headers"]["authorization"].as_str().unwrap();
    assert_ne!(bearer, format!("Bearer {signed_in}"), "revoked with a refreshed access token");
}

/// A custom provider found by its issuer gets every endpoint the server publishes: its
/// OpenID configuration and its OAuth metadata (RFC 8414) are both read and merged,
/// either one alone will do, OAuth metadata naming another issuer is not used, and
/// where neither will do the error says what each place answered.
#[tokio::test(flavor = "multi_thread")]
async fn discovery_reads_the_openid_configuration_and_the_oauth_metadata() {
    let (emulator, _setup, engine) = emulator_and_engine();
    let add = |name: &str| NewProvider {
        name: name.into(),
        issuer: Some(emulator.url("meta", name)),
        client_id: EMULATED_CLIENT_ID.into(),
        scopes: vec!["openid".into()],
        ..NewProvider::default()
    };
    let split = engine.add_provider(add("split")).await.unwrap().endpoints;
    assert_eq!(split.revocation_url, Some(emulator.url("zoom", "revoke")));
    assert_eq!(split.device_authorization_url, Some(emulator.url("zoom", "device")));
    assert_eq!(split.jwks_url, Some(emulator.url("google", "jwks")), "from the OpenID configuration");

    let oauth_only = engine.add_provider(add("oauth-only")).await.unwrap().endpoints;
    assert_eq!(oauth_only.token_url, emulator.url("zoom", "token"));
    assert_eq!(oauth_only.revocation_url, Some(emulator.url("zoom", "revoke")));

    let other = engine.add_provider(add("other-oauth")).await.unwrap().endpoints;
    assert_eq!((other.authorize_url, other.revocation_url), (emulator.url("zoom", "authorize"), None));

    // Neither will do: what each place said, not only the first one's 404.
    let broken = engine.add_provider(add("broken-oauth")).await.unwrap_err().to_string();
    assert!(broken.contains("openid-configuration: the server answered HTTP 404"), "{broken}");
    assert!(broken.contains("oauth-authorization-server/meta/broken-oauth: the answer is not"), "{broken}");
}

/// A custom provider whose metadata lists only `client_secret_post` is sent its client
/// credentials in the request body; set back to HTTP Basic by hand, the server's
/// `invalid_client` comes with how they were sent and how to change it.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_provider_gets_the_client_authentication_its_metadata_lists() {
    let (emulator, setup, engine) = emulator_and_engine();
    let added = engine
        .add_provider(NewProvider {
            name: "Post only".into(),
            issuer: Some(emulator.url("meta", "post-only")),
            client_id: EMULATED_CLIENT_ID.into(),
            client_secret: Some(EMULATED_CLIENT_SECRET.into()),
            scopes: vec!["email".into()],
            ..NewProvider::default()
        })
        .await
        .unwrap();
    assert_eq!(added.client_auth, ClientAuth::Post);
    let connection = connect(&engine, "Post only", "Work").await;
    assert_eq!(connection.account.as_deref(), Some("ada@example.test"));
    let exchange = requests(&emulator, "post-only", "token").await;
    assert_eq!(form_field(&exchange[0], "client_secret").as_deref(), Some(EMULATED_CLIENT_SECRET));
    assert!(exchange[0]["headers"]["authorization"].is_null(), "no HTTP Basic");

    let basic = ProviderAppInput { client_auth: Some(ClientAuth::Basic), ..ProviderAppInput::default() };
    assert_eq!(engine.set_provider_app("Post only", basic).await.unwrap().client_auth, ClientAuth::Basic);
    let kept = secret_tool_keys(&setup.service);
    let options = ConnectOptions { name: Some("Home".into()), ..ConnectOptions::default() };
    let pending = engine.connect("Post only", options).await.unwrap();
    let error = pending.outcome.await.unwrap().unwrap_err().to_string();
    assert!(
        error.contains("invalid_client") && error.contains("with HTTP Basic (client_secret_basic)"),
        "{error}"
    );
    assert!(error.contains("--client-auth basic|post|none"), "{error}");
    assert_eq!(secret_tool_keys(&setup.service), kept, "nothing kept");

    // A public client sends no secret at all, though one is stored.
    let none = ProviderAppInput { client_auth: Some(ClientAuth::None), ..ProviderAppInput::default() };
    engine.set_provider_app("Post only", none).await.unwrap();
    let options = ConnectOptions { name: Some("Public".into()), ..ConnectOptions::default() };
    let pending = engine.connect("Post only", options).await.unwrap();
    assert!(pending.outcome.await.unwrap().is_err(), "this server wants the secret");
    let exchanges = requests(&emulator, "post-only", "token").await;
    let last = exchanges.last().unwrap();
    assert_eq!(form_field(last, "client_id").as_deref(), Some(EMULATED_CLIENT_ID));
    assert_eq!(form_field(last, "client_secret"), None);
    assert!(last["headers"]["authorization"].is_null(), "no HTTP Basic");
}

/// Spotify's refresh tokens end 6 months after the sign-in, and refreshing does not
/// extend that, though its answers do not say so: the lapse is recorded at sign-in (the
/// window warns ahead of it) and kept through refreshes.
#[tokio::test(flavor = "multi_thread")]
async fn a_spotify_sign_in_lapses_six_months_after_it() {
    let (_emulator, _setup, engine) = engine_using_emulator("spotify", false).await;
    let lapse = connect(&engine, "spotify", "Music").await.refresh_token_expires_at.expect("recorded");
    let days = (lapse - grantkeeper_engine::Timestamp::now()).whole_days();
    assert!((181..=182).contains(&days), "{lapse}: {days} days");
    engine.refresh_now("Music").await.unwrap();
    assert_eq!(engine.connection("Music").unwrap().refresh_token_expires_at, Some(lapse));
}

/// Google ends the sign-ins of a provider app still in Testing after 7 days. A grant
/// that ends about a week after its sign-in says why and what to change at Google; one
/// that ends sooner, or later, just says it ended.
#[tokio::test(flavor = "multi_thread")]
async fn a_google_grant_that_ends_after_a_week_says_to_publish_the_app() {
    let (emulator, setup, engine) = engine_using_emulator("google", true).await;
    let db = rusqlite::Connection::open(setup.home.path().join("grantkeeper.sqlite3")).unwrap();
    let signed_in_days_ago = |days: i64| {
        let at = time::OffsetDateTime::now_utc() - time::Duration::days(days) - time::Duration::hours(2);
        let at = at.format(&time::format_description::well_known::Rfc3339).unwrap();
        db.execute("UPDATE credentials SET signed_in_at = ?1", [at]).unwrap();
    };
    let ended = async |days: i64| {
        connect(&engine, "gmail", "Mail").await;
        signed_in_days_ago(days);
        emulator.revoke("google", "ada").await;
        let error = engine.refresh_now("Mail").await.unwrap_err();
        assert!(matches!(error, Error::NeedsReauthorization { .. }), "{error}");
        engine.remove_connection("Mail").await.unwrap();
        error.to_string()
    };

    let after_two_days = ended(2).await;
    assert!(
        after_two_days.contains("invalid_grant") && !after_two_days.contains("Testing"),
        "{after_two_days}"
    );
    let after_a_week = ended(7).await;
    assert!(after_a_week.contains("publishing status is Testing"), "{after_a_week}");
    assert!(after_a_week.contains("In production") && after_a_week.contains("Internal"), "{after_a_week}");
}

/// Provider apps an organisation supplies in read-only files: the person's file wins
/// over the system's, and the person's own provider app over both; a sign-in goes
/// through a supplied app; a broken file is one error naming its line, and changes
/// nothing.
#[tokio::test(flavor = "multi_thread")]
async fn provider_apps_an_organisation_supplies() {
    let emulator = ProviderEmulator::start();
    let setup = Setup::new();
    let files = tempfile::tempdir().unwrap();
    let (user, system) = (files.path().join("user.toml"), files.path().join("system.toml"));
    let browser = Browser::Commands(vec![browser_command(BrowserMode::Consent, "ada")]);
    let supplied_provider_apps = vec![user.clone(), system.clone()];
    let engine = setup.open(Config { supplied_provider_apps, ..setup.config(browser) });
    let spotify =
        |engine: &Engine| engine.providers().unwrap().into_iter().find(|p| p.id == "spotify").unwrap();
    let entry = |client_id: &str| {
        let url = |endpoint: &str| emulator.url("spotify", endpoint);
        format!(
            "# Handed out by IT\n[spotify]\nclient_id = \"{client_id}\"\nauthorize_url = \"{}\"\ntoken_url = \"{}\"\nuserinfo_url = \"{}\"\n",
            url("authorize"),
            url("token"),
            url("identity")
        )
    };

    std::fs::write(&system, entry("system-client")).unwrap();
    let from_system = spotify(&engine);
    assert_eq!(from_system.client_id, "system-client");
    assert_eq!(from_system.supplied_from.as_deref(), system.to_str());
    std::fs::write(&user, entry(EMULATED_CLIENT_ID)).unwrap();
    assert_eq!(spotify(&engine).supplied_from.as_deref(), user.to_str(), "the person's file wins");
    let connection = connect(&engine, "spotify", "Music").await;
    assert_eq!(connection.account.as_deref(), Some("ada@example.test"));
    let error = engine.remove_provider("spotify", false).await.unwrap_err().to_string();
    assert!(error.contains("provided by your organisation"), "{error}");

    std::fs::write(&system, "[spotify]\nclient_id = \"x\"\nclient_secret = \"canary-supplied-secret\"\n")
        .unwrap();
    let error = engine.providers().unwrap_err();
    assert!(matches!(error, Error::SuppliedAppsInvalid { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("system.toml (line 3)") && message.contains("never read from this file"),
        "{message}"
    );
    assert!(
        !message.contains("canary-supplied-secret")
            && !contains(&data_dir_bytes(setup.home.path()), "canary-supplied")
    );
    std::fs::remove_file(&system).unwrap();

    // The person's own provider app wins: it starts from the supplied one.
    let own = ProviderAppInput { client_id: Some("my-own-client".into()), ..ProviderAppInput::default() };
    let mine = engine.set_provider_app("spotify", own).await.unwrap();
    assert_eq!((mine.client_id.as_str(), mine.supplied_from), ("my-own-client", None));
    assert_eq!(
        mine.endpoints.token_url,
        emulator.url("spotify", "token"),
        "the supplied endpoints carried over"
    );
    assert_eq!(spotify(&engine).client_id, "my-own-client");
}

/// A supplied provider app has no secret (a file never holds one); where the provider
/// requires one (Google), the sign-in is refused before the browser opens, not after the
/// person signed in, saying how to set up an app of one's own.
#[tokio::test(flavor = "multi_thread")]
async fn a_supplied_app_without_the_secret_its_provider_requires_is_refused_before_sign_in() {
    let emulator = ProviderEmulator::start();
    let setup = Setup::new();
    let file = setup.home.path().join("provider-apps.toml");
    let entry = format!("[google]\nclient_id = \"{EMULATED_CLIENT_ID}\"\n");
    std::fs::write(&file, entry).unwrap();
    let browser = Browser::Commands(vec![browser_command(BrowserMode::Consent, "ada")]);
    let engine = setup.open(Config { supplied_provider_apps: vec![file], ..setup.config(browser) });
    let error = engine.connect("gmail", ConnectOptions::default()).await.err().expect("refused");
    assert_eq!(error.field(), Some("client_secret"), "{error}");
    assert!(error.to_string().contains("grantkeeper providers set google"), "{error}");
    assert!(engine.connections().unwrap().is_empty());
    assert!(requests(&emulator, "google", "authorize").await.is_empty(), "no browser opened");
}

/// Google signs in by code only for the sign-in, Drive-file and YouTube scopes: Gmail is
/// refused before Google is asked, with how to sign in instead.
#[tokio::test(flavor = "multi_thread")]
async fn google_sign_in_by_code_is_refused_for_scopes_it_does_not_allow() {
    let (emulator, _setup, engine) = engine_using_emulator("google", true).await;
    let options = ConnectOptions { device: true, ..ConnectOptions::default() };
    let error = engine.connect("gmail", options).await.err().expect("refused");
    assert_eq!(error.field(), Some("device"), "{error}");
    let message = error.to_string();
    assert!(message.contains("gmail.readonly") && message.contains("--no-browser"), "{message}");
    assert!(requests(&emulator, "google", "device").await.is_empty(), "Google was not asked");
}

/// Gmail connected as "Mail" with Google's revocation endpoint where nothing listens
/// (the address is kept at sign-in); returns that port.
async fn mail_whose_revocation_is_unreachable(engine: &Arc<Engine>) -> u16 {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = endpoints_set(|set| {
        set.revocation_url = Some(format!("http://127.0.0.1:{closed_port}/google/revoke"))
    });
    engine.set_provider_app("google", unreachable).await.unwrap();
    connect(engine, "gmail", "Mail").await;
    closed_port
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_the_provider_could_not_take_is_retried_after_a_restart() {
    let (emulator, setup, engine) = engine_using_emulator("google", true).await;
    let closed_port = mail_whose_revocation_is_unreachable(&engine).await;
    let keys = secret_tool_keys(&setup.service);
    let token_key = keys.iter().find(|k| k.starts_with("credential/")).unwrap().clone();
    let stored: Value =
        serde_json::from_str(&secret_tool_lookup(&setup.service, &token_key).unwrap()).unwrap();
    let refresh_token = stored["refresh_token"].as_str().unwrap().to_owned();

    let removal = engine.remove_connection("Mail").await.unwrap();
    assert_eq!(removal.revocation, Revocation::WillRetry, "{removal:?}");
    assert!(removal.detail.as_deref().unwrap().contains("retried"), "{removal:?}");
    assert!(engine.connections().unwrap().is_empty(), "local removal completes at once");
    assert!(secret_tool_keys(&setup.service).contains(&token_key), "the tokens wait for the revocation");
    assert!(engine.activity(10).unwrap().iter().any(|e| e.kind == EventKind::RevocationFailed));
    drop(engine);

    // After a restart, with the provider reachable again at that address, it is done.
    let engine = setup.engine(BrowserMode::Consent);
    let emulator_address = url::Url::parse(&emulator.root_url()).unwrap().socket_addrs(|| None).unwrap()[0];
    let _reachable = forward(closed_port, emulator_address).await;
    engine.retry_revocations().await.unwrap();
    let revocations = requests(&emulator, "google", "revoke").await;
    assert_eq!(
        form_field(&revocations[0], "token").as_deref(),
        Some(refresh_token.as_str()),
        "refresh token first"
    );
    assert_eq!(form_field(&revocations[0], "token_type_hint").as_deref(), Some("refresh_token"));
    assert!(!secret_tool_keys(&setup.service).contains(&token_key));
    assert!(engine.activity(10).unwrap().iter().any(|e| e.kind == EventKind::CredentialRevoked));
    engine.retry_revocations().await.unwrap();
    assert_eq!(
        requests(&emulator, "google", "revoke").await.len(),
        revocations.len(),
        "nothing left to retry"
    );
}

/// A revocation queued while the provider was away is dropped, not sent, once the
/// person has signed in to that account again: Google ends every grant of an account to
/// one app together, so it would end the new connection's too.
#[tokio::test(flavor = "multi_thread")]
async fn a_queued_revocation_spares_the_account_signed_in_again() {
    let (emulator, setup, engine) = engine_using_emulator("google", true).await;
    let closed_port = mail_whose_revocation_is_unreachable(&engine).await;
    let old_key =
        secret_tool_keys(&setup.service).into_iter().find(|k| k.starts_with("credential/")).unwrap();
    assert_eq!(engine.remove_connection("Mail").await.unwrap().revocation, Revocation::WillRetry);

    connect(&engine, "gmail", "Mail again").await;
    let emulator_address = url::Url::parse(&emulator.root_url()).unwrap().socket_addrs(|| None).unwrap()[0];
    let _reachable = forward(closed_port, emulator_address).await;
    engine.retry_revocations().await.unwrap();
    assert!(requests(&emulator, "google", "revoke").await.is_empty(), "nothing revoked");
    assert!(!secret_tool_keys(&setup.service).contains(&old_key), "the old tokens are gone");
    assert_eq!(emulator.grant_revoked("google", "ada").await, Some(false));
    assert!(!stored_access_token(&engine, "Mail again").is_empty());
    engine.retry_revocations().await.unwrap();
    assert!(requests(&emulator, "google", "revoke").await.is_empty(), "nothing left to retry");
}

/// Cancel pressed once the provider has answered, while the account is being learnt:
/// keeping the grant goes on, since stopped halfway it would stay at the provider (and
/// perhaps in the keychain) with nothing here holding it.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_once_the_provider_answered_does_not_stop_keeping_the_grant() {
    let (emulator, setup, engine) = engine_using_emulator("google", true).await;
    emulator.delay_next_identity_request(1500).await;
    let _turn = fixed_port_sign_in().await;
    let options = ConnectOptions { name: Some("Mail".into()), ..ConnectOptions::default() };
    let pending = engine.connect("gmail", options).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while requests(&emulator, "google", "identity").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the account was never asked for");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.cancel_flow(&pending.started.flow_id).unwrap();
    let kept = pending.outcome.await.unwrap().unwrap();
    assert_eq!(kept.status, ConnectionStatus::Active);
    let entries =
        secret_tool_keys(&setup.service).into_iter().filter(|k| k.starts_with("credential/")).count();
    assert_eq!(entries, 1);
    assert_eq!(emulator.grant_revoked("google", "ada").await, Some(false));
}

/// A reconnect whose answer has no refresh token keeps the old one; when a refresh is
/// rotating that one meanwhile (Zoom rotates), it waits for it and keeps the new one,
/// rather than keeping the retired token and deleting the refresh's.
#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_without_a_refresh_token_keeps_the_one_a_refresh_just_rotated() {
    let (emulator, _setup, engine) = engine_using_emulator("zoom", true).await;
    connect(&engine, "zoom", "Meetings").await;
    emulator.delay_next_token_request(1500).await;
    let refreshing = tokio::spawn({
        let engine = engine.clone();
        async move { engine.refresh_now("Meetings").await }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while requests(&emulator, "zoom", "token").await.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "the refresh never reached Zoom");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emulator.omit_next_refresh_token().await;
    reconnect(&engine, "Meetings").await;
    refreshing.await.unwrap().unwrap();
    let after = engine.refresh_now("Meetings").await;
    assert_eq!(after.unwrap().status, ConnectionStatus::Active, "the kept refresh token is the live one");
}

/// A server that does not revoke refresh tokens (RFC 7009 §2.2.1, `unsupported_token_type`)
/// has not ended the grant: the access token is revoked still, and the removal says to
/// end access in the account settings rather than calling it revoked.
#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_token_the_server_cannot_revoke_is_not_called_revoked() {
    let (emulator, _setup, engine) = engine_using_emulator("zoom", true).await;
    connect(&engine, "zoom", "Meetings").await;
    emulator.unrevocable("refresh_token").await;
    let removal = engine.remove_connection("Meetings").await.unwrap();
    assert_eq!(removal.revocation, Revocation::Refused, "{removal:?}");
    let detail = removal.detail.unwrap_or_default();
    assert!(detail.contains("unsupported_token_type") && detail.contains("account settings"), "{detail}");
    let revocations = requests(&emulator, "zoom", "revoke").await;
    let hints: Vec<_> =
        revocations.iter().filter_map(|request| form_field(request, "token_type_hint")).collect();
    assert_eq!(hints, ["refresh_token", "access_token"], "the access token is revoked still");
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_token_answers_give_clear_errors_and_leave_nothing_behind() {
    let (emulator, setup, engine) = engine_using_emulator("google", true).await;
    let cases = [
        ("html", "not a valid token response"),
        ("truncated", "not a valid token response"),
        ("empty_access_token", "empty access_token"),
        ("newline_token", "a space or a line break"),
        ("huge", "too large"),
        ("server_error", "HTTP 503"),
        ("redirect", "not a valid token response"),
    ];
    for (how, expected) in cases {
        emulator.break_next_token_answer(how).await;
        let options = ConnectOptions { name: Some(how.into()), ..ConnectOptions::default() };
        let error = engine.connect("gmail", options).await.unwrap().outcome.await.unwrap().unwrap_err();
        let message = error.to_string();
        assert!(message.contains(expected), "{how}: {message}");
        assert!(!message.contains("canary"), "{how}: a token reached the message: {message}");
        assert!(engine.connections().unwrap().is_empty(), "{how}");
        assert!(secret_tool_keys(&setup.service).iter().all(|k| !k.starts_with("credential/")), "{how}");
    }
    // And the same provider still works afterwards.
    let connection = connect(&engine, "gmail", "Mail").await;
    assert_eq!(connection.status, ConnectionStatus::Active);

    // A broken refresh answer leaves the stored tokens as they were.
    let before = stored_access_token(&engine, "Mail");
    emulator.break_next_token_answer("truncated").await;
    let error = engine.refresh_now("Mail").await.unwrap_err();
    assert!(matches!(error, Error::ProviderError { .. }), "{error}");
    assert_eq!(stored_access_token(&engine, "Mail"), before);
    assert_eq!(engine.connection("Mail").unwrap().status, ConnectionStatus::Active);

    // Rate limited: the provider's Retry-After travels with the error to the scheduler.
    emulator.break_next_token_answer("rate_limited").await;
    match engine.refresh_now("Mail").await.unwrap_err() {
        error @ Error::ProviderUnreachable { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(120)), "{error}");
            // It answered: the person's network is not what to check.
            let said = error.to_string();
            assert!(said.contains("HTTP 429, too many requests") && !said.contains("network"), "{said}");
        }
        other => panic!("rate limiting is transient, not {other}"),
    }
    emulator.break_next_token_answer("server_error").await;
    let said = engine.refresh_now("Mail").await.unwrap_err().to_string();
    assert!(said.contains("could not answer now (HTTP 503). Try again later."), "{said}");
    assert_eq!(stored_access_token(&engine, "Mail"), before);
}

/// The only credential's keychain entry and the tokens it holds.
fn stored_entry(setup: &Setup) -> (String, Value) {
    let key = secret_tool_keys(&setup.service).into_iter().find(|k| k.starts_with("credential/")).unwrap();
    let tokens = serde_json::from_str(&secret_tool_lookup(&setup.service, &key).unwrap()).unwrap();
    (key, tokens)
}

/// What a process killed in a refresh, between writing the provider's answer to the
/// keychain and committing it, leaves: `tokens` in a new entry, and SQLite still
/// pointing at `old_key` with the refresh marked as under way. The new entry's name and
/// the database.
fn leave_an_unsaved_refresh(setup: &Setup, old_key: &str, tokens: &Value) -> (String, rusqlite::Connection) {
    let new_key = format!("{}/written-before-the-kill", old_key.rsplit_once('/').unwrap().0);
    grantkeeper_test_support::secret_tool_store(&setup.service, &new_key, tokens.to_string());
    let db = rusqlite::Connection::open(setup.home.path().join("grantkeeper.sqlite3")).unwrap();
    db.execute("UPDATE credentials SET pending_token_key = ?1", [&new_key]).unwrap();
    (new_key, db)
}

/// A process killed after writing a refresh's new tokens to the keychain but before
/// committing them to SQLite: the next start adopts them rather than falling back to
/// the old (possibly spent) refresh token.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_a_killed_refresh_wrote_are_adopted_on_restart() {
    // Microsoft rotates refresh tokens. (GitHub Apps, which do too, listen on one fixed
    // port, which another test here uses at the same time.)
    let (_emulator, setup, engine) = engine_using_emulator("microsoft", false).await;
    connect(&engine, "outlook-mail", "App").await;
    let (old_key, mut tokens) = stored_entry(&setup);
    drop(engine);
    tokens["access_token"] = "canary-adopted-access".into();
    let (new_key, db) = leave_an_unsaved_refresh(&setup, &old_key, &tokens);

    let engine = setup.engine(BrowserMode::Consent);
    engine.repair().await.unwrap();
    assert_eq!(stored_access_token(&engine, "App"), "canary-adopted-access");
    assert_eq!(engine.connection("App").unwrap().status, ConnectionStatus::Active);
    let keys = secret_tool_keys(&setup.service);
    assert!(keys.contains(&new_key) && !keys.contains(&old_key), "{keys:?}");
    // And it goes on refreshing from there.
    engine.refresh_now("App").await.unwrap();

    // Killed after a refresh's commit but before it deleted the old entry: the
    // database noted the replaced entry, and the next start deletes the orphan.
    let current =
        secret_tool_keys(&setup.service).into_iter().find(|k| k.starts_with("credential/")).unwrap();
    let orphan = format!("{}/left-by-a-kill", old_key.rsplit_once('/').unwrap().0);
    grantkeeper_test_support::secret_tool_store(&setup.service, &orphan, "{}");
    db.execute("INSERT INTO stale_secrets (key, since) VALUES (?1, '2026-01-01T00:00:00Z')", [&orphan])
        .unwrap();
    engine.repair().await.unwrap();
    let keys: Vec<String> =
        secret_tool_keys(&setup.service).into_iter().filter(|k| k.starts_with("credential/")).collect();
    assert_eq!(keys, [current], "only the entry in use is left");
    let noted: i64 = db.query_row("SELECT count(*) FROM stale_secrets", [], |row| row.get(0)).unwrap();
    assert_eq!(noted, 0);
}

/// A removal after a refresh whose process was killed between writing the provider's
/// answer to the keychain and saving it: the revocation presents the newest (rotated)
/// refresh token, and no keychain entry of the grant is left.
#[tokio::test(flavor = "multi_thread")]
async fn a_removal_revokes_with_the_tokens_a_killed_refresh_wrote() {
    // Zoom rotates refresh tokens and revokes by RFC 7009 with client authentication.
    let (emulator, setup, engine) = engine_using_emulator("zoom", true).await;
    connect(&engine, "zoom", "Meetings").await;
    let (old_key, mut tokens) = stored_entry(&setup);

    // What the killed process got: the provider's answer to the stored refresh token,
    // which retired that token.
    let answer = emulator.refresh_directly("zoom", tokens["refresh_token"].as_str().unwrap()).await;
    let (rotated, access) =
        (answer["refresh_token"].as_str().unwrap(), answer["access_token"].as_str().unwrap());
    tokens["access_token"] = access.into();
    tokens["refresh_token"] = rotated.into();
    leave_an_unsaved_refresh(&setup, &old_key, &tokens);

    let removal = engine.remove_connection("Meetings").await.unwrap();
    assert_eq!(removal.revocation, Revocation::Revoked, "{removal:?}");
    let revocations = requests(&emulator, "zoom", "revoke").await;
    let presented: Vec<_> = revocations.iter().map(|r| form_field(r, "token")).collect();
    // The refresh token first, then the access token; neither of them the retired pair.
    assert_eq!(presented, [Some(rotated.to_owned()), Some(access.to_owned())]);
    assert_eq!(emulator.grant_revoked("zoom", "ada").await, Some(true));
    let left: Vec<String> =
        secret_tool_keys(&setup.service).into_iter().filter(|k| k.starts_with("credential/")).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_client_secret_flags_the_provider_app_and_keeps_the_tokens() {
    let (_emulator, _setup, engine) = engine_using_emulator("google", true).await;
    connect(&engine, "gmail", "Mail").await;
    let before = stored_access_token(&engine, "Mail");

    // The secret was rotated at Google, and the old one is still in Grantkeeper.
    let stale =
        ProviderAppInput { client_secret: Some("canary-rotated-away".into()), ..ProviderAppInput::default() };
    engine.set_provider_app("google", stale).await.unwrap();
    let error = engine.refresh_now("Mail").await.unwrap_err();
    assert!(matches!(error, Error::ProviderAppRejected { .. }), "{error}");
    assert!(error.to_string().contains("the tokens were kept"), "{error}");
    let google = engine.providers().unwrap().into_iter().find(|p| p.id == "google").unwrap();
    assert!(google.attention.as_deref().is_some_and(|a| a.contains("client credentials")), "{google:?}");
    assert_eq!(engine.connection("Mail").unwrap().status, ConnectionStatus::Active, "not the grant's fault");
    assert_eq!(stored_access_token(&engine, "Mail"), before);

    // Saving the right secret clears it, and refreshing works again.
    let fixed = ProviderAppInput {
        client_secret: Some(EMULATED_CLIENT_SECRET.into()),
        ..ProviderAppInput::default()
    };
    assert!(engine.set_provider_app("google", fixed).await.unwrap().attention.is_none());
    engine.refresh_now("Mail").await.unwrap();
}

/// An outage at the provider while a refresh falls due: the connection stays usable and
/// shows "retrying" (never Reauthorize), and once the provider is back the scheduler
/// refreshes it by itself.
#[tokio::test(flavor = "multi_thread")]
async fn the_scheduler_rides_out_an_outage_and_recovers_by_itself() {
    let (emulator, _setup, engine) = engine_using_emulator("google", true).await;
    emulator.set_lifetimes(3, 3).await;
    connect(&engine, "gmail", "Mail").await;
    emulator.outage(true).await;
    let scheduler = tokio::spawn(engine.clone().run_scheduler());

    let waited = std::time::Instant::now();
    while engine.connection("Mail").unwrap().status != ConnectionStatus::Retrying {
        assert!(waited.elapsed() < Duration::from_secs(15), "never marked retrying");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let during = engine.connection("Mail").unwrap();
    assert!(during.status_reason.as_deref().is_some_and(|r| r.contains("Could not reach")), "{during:?}");
    assert!(during.last_refreshed_at.is_none());

    emulator.outage(false).await;
    let back = std::time::Instant::now();
    loop {
        let connection = engine.connection("Mail").unwrap();
        if connection.status == ConnectionStatus::Active && connection.last_refreshed_at.is_some() {
            break;
        }
        assert_ne!(connection.status, ConnectionStatus::Reauthorize);
        assert!(back.elapsed() < Duration::from_secs(30), "no recovery after the outage: {connection:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let refreshes = requests(&emulator, "google", "token")
        .await
        .iter()
        .filter(|r| r["body"].as_str().unwrap_or_default().contains("grant_type=refresh_token"))
        .count();
    assert!(refreshes >= 2, "failed attempts during the outage, then the one that worked: {refreshes}");
    let (_, token) = engine.access_token("Mail", Duration::from_secs(60)).await.unwrap();
    assert!(token.expose().starts_with("google-access-"));
    scheduler.abort();
}

/// A refresh whose answer never came (the connection dropped after the request left).
/// Microsoft rotates refresh tokens, and so does a GitHub OAuth App with expiring user
/// tokens turned on, so the one sent may be spent: it is never presented again, the
/// connection asks to be reconnected and keeps its tokens until then.
#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_with_no_answer_never_presents_its_refresh_token_again() {
    let (emulator, setup, engine) = engine_using_emulator("microsoft", false).await;
    never_presented_again(&engine, &emulator, &setup, "microsoft", "outlook-mail").await;
    emulator.expiring_tokens("github").await;
    use_emulator(&engine, &emulator, "github", true).await;
    never_presented_again(&engine, &emulator, &setup, "github", "github").await;
}

async fn never_presented_again(
    engine: &Arc<Engine>,
    emulator: &ProviderEmulator,
    setup: &Setup,
    provider: &str,
    integration: &str,
) {
    let id = connect(engine, integration, provider).await.id;
    let kept = secret_tool_keys(&setup.service);

    emulator.outage(true).await;
    let error = engine.refresh_now(provider).await.unwrap_err();
    emulator.outage(false).await;
    assert!(matches!(error, Error::NeedsReauthorization { .. }), "{provider}: {error}");
    assert!(error.to_string().contains("no usable answer"), "{error}");
    let again = engine.access_token(provider, Duration::from_secs(100_000)).await.unwrap_err();
    assert!(matches!(again, Error::NeedsReauthorization { .. }), "{again}");
    let presented: Vec<String> = requests(emulator, provider, "token")
        .await
        .iter()
        .filter_map(|r| form_field(r, "refresh_token"))
        .collect();
    assert_eq!(presented.len(), 1, "{provider}: the refresh token went out once: {presented:?}");
    assert_eq!(engine.connection(provider).unwrap().status, ConnectionStatus::Reauthorize);
    assert_eq!(secret_tool_keys(&setup.service), kept, "{provider}: its tokens stay until the reconnect");

    let reconnected = reconnect(engine, provider).await;
    assert_eq!((reconnected.id, reconnected.status), (id, ConnectionStatus::Active));
}

/// The provider app's token and revocation URLs are changed after a sign-in (a typo,
/// or someone with access to the settings). The refresh token, client secret and the
/// revocation go where the credential was signed in until the person reconnects, and
/// the provider app says which connections still use the previous address.
#[tokio::test(flavor = "multi_thread")]
async fn an_edited_provider_app_gets_no_token_before_a_reconnect() {
    let (emulator, _setup, engine) = engine_using_emulator("google", true).await;
    let elsewhere = ProviderEmulator::start();
    connect(&engine, "gmail", "Mail").await;
    use_emulator(&engine, &elsewhere, "google", true).await;
    let google =
        |engine: &Engine| engine.providers().unwrap().into_iter().find(|p| p.id == "google").unwrap();
    assert_eq!(google(&engine).on_previous_addresses, ["Mail"]);

    engine.refresh_now("Mail").await.unwrap();
    engine.remove_connection("Mail").await.unwrap();
    assert_eq!(requests(&emulator, "google", "token").await.len(), 2, "code exchange, then the refresh");
    assert!(!requests(&emulator, "google", "revoke").await.is_empty(), "revoked where it was signed in");
    assert!(elsewhere.log().await.is_empty(), "nothing reached the new address: {:?}", elsewhere.log().await);

    // A new sign-in uses the new address.
    connect(&engine, "gmail", "Mail").await;
    assert_eq!(requests(&elsewhere, "google", "token").await.len(), 1);
    assert!(google(&engine).on_previous_addresses.is_empty());
}

/// The GitHub site changed after a sign-in: git asking for the new host gets nothing
/// until the connection is reconnected there; the host it was signed in at still works.
#[tokio::test(flavor = "multi_thread")]
async fn git_gets_no_token_for_an_edited_site_before_a_reconnect() {
    let (_emulator, _setup, engine) = engine_using_emulator("github", true).await;
    connect(&engine, "github", "GitHub").await;
    let site =
        ProviderAppInput { site: Some("https://git.example.com".into()), ..ProviderAppInput::default() };
    assert_eq!(engine.set_provider_app("github", site).await.unwrap().on_previous_addresses, ["GitHub"]);

    let asking = |host: &str| GitCredentialRequest {
        protocol: "https".into(),
        host: host.into(),
        ..GitCredentialRequest::default()
    };
    assert!(engine.git_credential(&asking("git.example.com")).await.unwrap().is_none());
    assert!(engine.git_credential(&asking("github.com")).await.unwrap().is_some());
}

/// Microsoft's access tokens run to several KB, more than Windows Credential Manager
/// keeps in one item: the keychain holds them in parts, whole on every read, and
/// removal leaves no part behind.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_over_4_kb_are_kept_whole() {
    let (emulator, setup, engine) = engine_using_emulator("microsoft", false).await;
    emulator.long_tokens(true).await;
    connect(&engine, "outlook-mail", "Outlook").await;

    let keys = secret_tool_keys(&setup.service);
    let head = keys.iter().find(|k| k.starts_with("credential/") && !k.contains('#')).unwrap();
    let stored = secret_tool_lookup(&setup.service, head).unwrap();
    assert!(stored.starts_with("grantkeeper-chunks:v1:"), "kept in parts: {stored:.40}");
    assert!(keys.iter().all(|k| secret_tool_lookup(&setup.service, k).unwrap().chars().count() <= 1000));

    let (_, token) = engine.access_token("Outlook", Duration::from_secs(60)).await.unwrap();
    let issued = requests(&emulator, "microsoft", "identity").await;
    let presented = issued[0]["headers"]["authorization"].as_str().unwrap();
    assert!(token.expose().len() > 4096);
    assert_eq!(presented, format!("Bearer {}", token.expose()), "the token read back is the one issued");
    engine.refresh_now("Outlook").await.unwrap();
    let (_, refreshed) = engine.access_token("Outlook", Duration::from_secs(60)).await.unwrap();
    assert!(refreshed.expose().len() > 4096 && refreshed.expose() != token.expose());

    engine.remove_connection("Outlook").await.unwrap();
    assert_eq!(secret_tool_keys(&setup.service), Vec::<String>::new(), "no part left behind");
}

/// Reddit: an installed app has no secret and still authenticates with HTTP Basic (its
/// client ID and an empty password), and every request carries a User-Agent of the app's
/// own, token, identity and revocation alike.
#[tokio::test(flavor = "multi_thread")]
async fn reddit_installed_apps_send_an_empty_secret_and_their_own_user_agent() {
    let (emulator, _setup, engine) = engine_using_emulator("reddit", false).await;
    connect(&engine, "reddit", "Reddit").await;
    engine.refresh_now("Reddit").await.unwrap();
    engine.remove_connection("Reddit").await.unwrap();

    let empty_secret = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{EMULATED_CLIENT_ID}:"))
    );
    let agent = format!(
        "desktop:grantkeeper:{} (by Grantkeeper; client {EMULATED_CLIENT_ID})",
        env!("CARGO_PKG_VERSION")
    );
    let tokens = requests(&emulator, "reddit", "token").await;
    assert_eq!(tokens.len(), 2, "code exchange and one refresh");
    for request in &tokens {
        assert_eq!(request["headers"]["authorization"], empty_secret.as_str(), "{request}");
        assert_eq!(form_field(request, "client_id"), None, "not in the body as well");
    }
    for endpoint in ["token", "identity", "revoke"] {
        let seen = requests(&emulator, "reddit", endpoint).await;
        assert!(!seen.is_empty(), "{endpoint}");
        for request in seen {
            assert_eq!(request["headers"]["user-agent"], agent.as_str(), "{endpoint}");
        }
    }
    let revocation = &requests(&emulator, "reddit", "revoke").await[0];
    assert_eq!(revocation["headers"]["authorization"], empty_secret.as_str());
    assert_eq!(emulator.grant_revoked("reddit", "ada").await, Some(true));
    // Other providers keep Grantkeeper's own User-Agent.
    let (google, _setup, engine) = engine_using_emulator("google", true).await;
    connect(&engine, "gmail", "Mail").await;
    let agent = requests(&google, "google", "token").await[0]["headers"]["user-agent"].clone();
    assert!(agent.as_str().unwrap().starts_with("Grantkeeper/"), "{agent}");
}

/// Salesforce: each org signs in at its My Domain (a site), and the token answer's
/// `instance_url`, where the org's API is, is kept with the credential (SQLite, not the
/// keychain) and shown with the connection, also after a refresh.
#[tokio::test(flavor = "multi_thread")]
async fn salesforce_signs_in_at_my_domain_and_keeps_the_instance_url() {
    let (emulator, setup, engine) = emulator_and_engine();
    let my_domain = ProviderAppInput {
        client_id: Some(EMULATED_CLIENT_ID.into()),
        site: Some("https://acme.my.salesforce.com".into()),
        ..ProviderAppInput::default()
    };
    let salesforce = engine.set_provider_app("salesforce", my_domain).await.unwrap();
    assert_eq!(
        salesforce.endpoints.authorize_url,
        "https://acme.my.salesforce.com/services/oauth2/authorize"
    );
    assert_eq!(
        salesforce.endpoints.revocation_url.as_deref(),
        Some("https://acme.my.salesforce.com/services/oauth2/revoke")
    );
    use_emulator(&engine, &emulator, "salesforce", false).await;
    let connection = connect(&engine, "salesforce", "Org").await;
    let instance = "https://ada-org.my.salesforce.com";
    assert_eq!(connection.details.get("instance_url").map(String::as_str), Some(instance));
    // No expires_in in Salesforce's answer: its shortest session timeout is assumed.
    let expires = connection.expires_at.unwrap();
    let left = (expires - grantkeeper_engine::Timestamp::now()).whole_seconds();
    assert!((850..=900).contains(&left), "{left} s");
    let listed = serde_json::to_value(engine.connection("Org").unwrap()).unwrap();
    assert_eq!(listed["details"]["instance_url"], instance, "as `list --json` prints it");

    let db = rusqlite::Connection::open(setup.home.path().join("grantkeeper.sqlite3")).unwrap();
    let kept: String = db.query_row("SELECT token_details FROM credentials", [], |row| row.get(0)).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&kept).unwrap(),
        serde_json::json!({ "instance_url": instance })
    );
    let key = secret_tool_keys(&setup.service).into_iter().find(|k| k.starts_with("credential/")).unwrap();
    let stored = secret_tool_lookup(&setup.service, &key).unwrap();
    assert!(!stored.contains("instance_url") && !kept.contains("salesforce-access"));

    engine.refresh_now("Org").await.unwrap();
    let refreshed = engine.connection("Org").unwrap();
    assert_eq!(refreshed.details.get("instance_url").map(String::as_str), Some(instance));
    assert!(refreshed.expires_at.is_some(), "a refresh answer is taken the same way");
}

/// Bitbucket Cloud has no site of its own, yet its tokens serve git on bitbucket.org with
/// the user name `x-token-auth`; the consumer authenticates with HTTP Basic.
#[tokio::test(flavor = "multi_thread")]
async fn bitbucket_tokens_serve_git_on_bitbucket_org() {
    let (emulator, _setup, engine) = engine_using_emulator("bitbucket", true).await;
    connect(&engine, "bitbucket", "Bitbucket").await;
    let exchange = &requests(&emulator, "bitbucket", "token").await[0];
    assert!(exchange["headers"]["authorization"].as_str().unwrap().starts_with("Basic "));
    assert_eq!(form_field(exchange, "client_secret"), None);

    let asking = |host: &str| GitCredentialRequest {
        protocol: "https".into(),
        host: host.into(),
        ..GitCredentialRequest::default()
    };
    let credential = engine.git_credential(&asking("bitbucket.org")).await.unwrap().expect("served");
    assert_eq!(credential.username, "x-token-auth");
    assert_eq!(credential.password.expose(), stored_access_token(&engine, "Bitbucket"));
    assert!(credential.password_expiry_utc.is_some(), "its access tokens expire");
    assert!(engine.git_credential(&asking("github.com")).await.unwrap().is_none());
    let plain = GitCredentialRequest { protocol: "http".into(), ..asking("bitbucket.org") };
    assert!(engine.git_credential(&plain).await.unwrap().is_none(), "never over plain http");
}

/// Figma refreshes at /v1/oauth/refresh, beside its token endpoint (which refuses a
/// refresh token), and answers without a new refresh token: the first one is kept.
#[tokio::test(flavor = "multi_thread")]
async fn figma_refreshes_at_its_own_endpoint_and_keeps_the_refresh_token() {
    let (emulator, _setup, engine) = engine_using_emulator("figma", true).await;
    connect(&engine, "figma", "Figma").await;
    engine.refresh_now("Figma").await.unwrap();
    engine.refresh_now("Figma").await.unwrap();
    let tokens = requests(&emulator, "figma", "token").await;
    assert_eq!(tokens.len(), 1, "only the code exchange");
    let refreshes: Vec<Value> =
        emulator.log().await.into_iter().filter(|r| r["path"] == "/v1/oauth/refresh").collect();
    let presented: Vec<String> = refreshes.iter().filter_map(|r| form_field(r, "refresh_token")).collect();
    assert_eq!(presented.len(), 2);
    assert_eq!(presented[0], presented[1], "the one refresh token, kept");
    assert!(refreshes[0]["headers"]["authorization"].as_str().unwrap().starts_with("Basic "));
}
