//! OpenID Connect ID tokens of the catalog's OpenID providers (Google, Microsoft, on
//! the emulator, which signs them with the keys it publishes) and of a custom provider
//! (the real OpenID provider): checked at sign-in (Core §3.1.3.7) and when a refresh
//! brings one (Core §12.2). A refused token keeps nothing of its answer.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{engine_using_emulator, engine_with_local_op, named, provider_input, Setup};
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::api::{NewProvider, ProviderAppInput};
use grantkeeper_engine::provider::EndpointOverrides;
use grantkeeper_engine::{ConnectionStatus, Engine, Error};
use grantkeeper_test_support::{
    secret_tool_keys, secret_tool_lookup, BrowserMode, OidcProvider, ProviderEmulator,
};

/// Every keychain entry of the test's service with its value.
fn keychain(service: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = secret_tool_keys(service)
        .into_iter()
        .map(|key| {
            let value = secret_tool_lookup(service, &key).unwrap();
            (key, value)
        })
        .collect();
    entries.sort();
    entries
}

async fn access_token(engine: &Engine, connection: &str) -> Result<String, Error> {
    engine.access_token(connection, Duration::ZERO).await.map(|(_, token)| token.expose().to_owned())
}

async fn sign_in(engine: &Arc<Engine>, integration: &str, name: &str) -> Result<(), Error> {
    let pending = engine.connect(integration, named(name)).await?;
    pending.outcome.await.unwrap().map(drop)
}

/// Signs in with a nonce sent and returns the keychain, which keeps the checked ID token.
async fn sign_in_keeping_the_id_token(
    engine: &Arc<Engine>,
    integration: &str,
    options: ConnectOptions,
    service: &str,
) -> Vec<(String, String)> {
    let pending = engine.connect(integration, options).await.unwrap();
    assert!(pending.started.authorize_url.contains("&nonce="), "a nonce is sent");
    pending.outcome.await.unwrap().unwrap();
    let kept = keychain(service);
    assert!(
        kept.iter().any(|(_, value)| value.contains("\"id_token\":\"ey")),
        "the checked ID token is kept"
    );
    kept
}

/// A sign-in refused after the code exchange because `fault` spoiled its ID token,
/// for `reason`: nothing was added to the connections or the keychain.
fn assert_id_token_refused(
    error: Error,
    fault: &str,
    reason: &str,
    engine: &Engine,
    service: &str,
    kept: &[(String, String)],
) {
    let message = error.to_string();
    assert!(matches!(error, Error::ProviderError { .. }), "{fault}: {error:?}");
    assert!(message.contains("ID token was refused") && message.contains(reason), "{fault}: {message}");
    assert_eq!(engine.connections().unwrap().len(), 1, "{fault}: no connection added");
    assert_eq!(keychain(service), kept, "{fault}: the keychain is as it was");
}

/// A refresh of "Mail" whose ID token is forged: its tokens are dropped, the stored ones
/// (`kept`) stay; Google keeps refresh tokens, so the connection stays Active and tries
/// again. Returns the keychain after the next, good refresh.
async fn a_forged_id_token_on_refresh_keeps_what_was_stored(
    engine: &Engine,
    emulator: &ProviderEmulator,
    service: &str,
    kept: &[(String, String)],
) -> Vec<(String, String)> {
    let before = access_token(engine, "Mail").await.unwrap();
    emulator.fault_next_id_token("signature").await;
    let error = engine.refresh_now("Mail").await.unwrap_err();
    assert!(matches!(error, Error::ProviderError { .. }), "{error:?}");
    assert!(error.to_string().contains("ID token was refused"), "{error}");
    assert_eq!(keychain(service), kept, "the refresh's answer was not kept");
    assert_eq!(engine.connection("Mail").unwrap().status, ConnectionStatus::Active);
    assert_eq!(access_token(engine, "Mail").await.unwrap(), before);
    engine.refresh_now("Mail").await.unwrap();
    keychain(service)
}

/// A sign-in refused because its ID token names another account than the provider's
/// own answer (OpenID Connect Core §5.3.2): the error names the provider and says so,
/// and nothing was added to the connections or the keychain.
fn assert_refused_as_another_account(
    error: Error,
    provider: &str,
    engine: &Engine,
    service: &str,
    kept: &[(String, String)],
) {
    let message = error.to_string();
    assert!(matches!(error, Error::ProviderError { .. }), "{error:?}");
    assert!(message.starts_with(&format!("{provider} answered")), "names the provider: {message}");
    assert!(message.contains("userinfo answer names another account than its ID token"), "{message}");
    assert_eq!(engine.connections().unwrap().len(), 1, "no connection added");
    assert_eq!(keychain(service), kept, "the keychain is as it was");
}

#[tokio::test(flavor = "multi_thread")]
async fn google_id_tokens_are_checked_at_sign_in_and_on_refresh() {
    let (emulator, setup, engine) = engine_using_emulator("google", true).await;

    let kept = sign_in_keeping_the_id_token(&engine, "gmail", named("Mail"), &setup.service).await;

    // Another sign-in's token, a forged signature, someone else's issuer or client, an
    // expired token: each refused after the code exchange, and nothing is kept.
    for (fault, reason) in [
        ("nonce", "nonce mismatch"),
        ("signature", "Signature verification failed"),
        ("issuer", "issuer.example.test"),
        ("audience", "another-client"),
        ("expired", "expired"),
    ] {
        emulator.fault_next_id_token(fault).await;
        let error = sign_in(&engine, "google-drive", "Drive").await.unwrap_err();
        assert_id_token_refused(error, fault, reason, &engine, &setup.service, &kept);
    }

    // OpenID Connect Core §5.3.2: a validly signed ID token for another account than the
    // userinfo answer describes (the emulator's userinfo answers the person who signed
    // in) is a substituted token: refused, nothing kept.
    emulator.fault_next_id_token("sub").await;
    let error = sign_in(&engine, "google-drive", "Drive").await.unwrap_err();
    assert_refused_as_another_account(error, "Google", &engine, &setup.service, &kept);

    // A machine whose clock runs a minute ahead sees a fresh token as just expired: kept.
    emulator.fault_next_id_token("expired-a-minute-ago").await;
    engine.refresh_now("Mail").await.unwrap();
    let kept = keychain(&setup.service);

    let refreshed =
        a_forged_id_token_on_refresh_keeps_what_was_stored(&engine, &emulator, &setup.service, &kept).await;
    assert_ne!(refreshed, kept, "a good refresh is kept");

    // A refresh whose validly signed ID token names another account: the grant is no
    // longer this connection's. Reauthorize; the stored tokens stay but are not handed out.
    emulator.fault_next_id_token("sub").await;
    let error = engine.refresh_now("Mail").await.unwrap_err();
    assert!(matches!(error, Error::NeedsReauthorization { .. }), "{error:?}");
    assert!(error.to_string().contains("names another account"), "{error}");
    let mail = engine.connection("Mail").unwrap();
    assert_eq!(mail.status, ConnectionStatus::Reauthorize);
    assert!(mail.status_reason.unwrap().contains("another account"));
    assert_eq!(keychain(&setup.service), refreshed, "nothing dropped, nothing added");
    assert!(matches!(access_token(&engine, "Mail").await, Err(Error::NeedsReauthorization { .. })));
}

#[tokio::test(flavor = "multi_thread")]
async fn microsoft_id_tokens_name_the_account_s_tenant() {
    let (emulator, setup, engine) = engine_using_emulator("microsoft", false).await;

    // The common endpoint: any tenant, as long as the issuer names the token's own.
    sign_in(&engine, "outlook-mail", "Outlook").await.unwrap();
    engine.refresh_now("Outlook").await.unwrap();
    emulator.fault_next_id_token("issuer").await;
    let error = sign_in(&engine, "outlook-calendar", "Calendar").await.unwrap_err();
    assert!(error.to_string().contains("issuer.example.test"), "{error}");

    // Graph `/me` names the account by its object ID, which is the ID token's `oid`: a
    // validly signed ID token for another account than Graph describes is refused.
    let kept = keychain(&setup.service);
    emulator.fault_next_id_token("sub").await;
    let error = sign_in(&engine, "outlook-calendar", "Calendar").await.unwrap_err();
    assert_refused_as_another_account(error, "Microsoft 365", &engine, &setup.service, &kept);

    // A tenant given by its ID: only that tenant's tokens.
    let tenant = |id: &str| ProviderAppInput { site: Some(id.into()), ..ProviderAppInput::default() };
    engine.set_provider_app("microsoft", tenant("11111111-2222-4333-8444-555555555555")).await.unwrap();
    let error = sign_in(&engine, "outlook-calendar", "Calendar").await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("ID token was refused") && message.contains("000000001001/v2.0"), "{message}");
    engine.set_provider_app("microsoft", tenant("00000000-0000-4000-8000-000000001001")).await.unwrap();
    sign_in(&engine, "outlook-calendar", "Calendar").await.unwrap();

    // Personal accounts all belong to Microsoft's tenant of consumers: the consumers
    // endpoint signs only as it, the organizations endpoint never does.
    engine.set_provider_app("microsoft", tenant("consumers")).await.unwrap();
    let error = sign_in(&engine, "onedrive", "Work files").await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("ID token was refused") && message.contains("000000001001/v2.0"), "{message}");
    emulator.sign_in_as("pat").await;
    sign_in(&engine, "onedrive", "Personal files").await.unwrap();
    let kept = keychain(&setup.service);
    engine.set_provider_app("microsoft", tenant("organizations")).await.unwrap();
    let error = sign_in(&engine, "onedrive", "Personal files 2").await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::ProviderError { .. }), "{error:?}");
    assert!(message.contains("personal account's, on the organizations endpoint"), "{message}");
    assert_eq!(keychain(&setup.service), kept, "nothing kept");
    emulator.sign_in_as("ada").await;
    sign_in(&engine, "onedrive", "Work files").await.unwrap();

    // Microsoft rotates refresh tokens: a refused refresh asks to reconnect rather than
    // present a refresh token the provider may have retired.
    emulator.fault_next_id_token("signature").await;
    let error = engine.refresh_now("Outlook").await.unwrap_err();
    assert!(matches!(error, Error::NeedsReauthorization { .. }), "{error:?}");
    assert!(error.to_string().contains("may no longer be valid"), "{error}");
}

/// A tenant given by its domain: Microsoft publishes that tenant's keys with its issuer
/// (the tenant ID) at the domain's JWKS URL, so only that tenant's ID tokens are taken,
/// though the domain itself names no tenant ID to compare with.
#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_given_by_its_domain_takes_only_its_own_tokens() {
    let (emulator, setup, engine) = engine_using_emulator("microsoft", false).await;
    let domain = |name: &str| ProviderAppInput {
        site: Some(name.into()),
        endpoints: EndpointOverrides {
            jwks_url: Some(emulator.url("microsoft", &format!("jwks/{name}"))),
            ..Default::default()
        },
        ..ProviderAppInput::default()
    };

    // Ada's organisation is ada.example; her token is signed for her tenant, not Bob's.
    engine.set_provider_app("microsoft", domain("bob.example")).await.unwrap();
    let error = sign_in(&engine, "outlook-mail", "Outlook").await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::ProviderError { .. }), "{error:?}");
    assert!(
        message.contains("000000001001/v2.0”, and its signing key is published for")
            && message.contains("000000001002/v2.0"),
        "{message}"
    );
    assert!(keychain(&setup.service).is_empty(), "nothing kept");
    assert!(engine.connection("Outlook").is_err());

    engine.set_provider_app("microsoft", domain("ada.example")).await.unwrap();
    sign_in(&engine, "outlook-mail", "Outlook").await.unwrap();
    engine.refresh_now("Outlook").await.unwrap();
}

/// The real OpenID provider sends an ID token with every refresh and rotates refresh
/// tokens: a forged one ends in Reauthorize with the stored tokens kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_provider_s_refreshed_id_token_is_checked() {
    let (op, setup, engine) = engine_with_local_op(BrowserMode::Consent).await;
    sign_in(&engine, "Local OP", "Work").await.unwrap();
    engine.refresh_now("Work").await.unwrap();
    let kept = keychain(&setup.service);

    op.fault_next_id_token("signature").await;
    let error = engine.refresh_now("Work").await.unwrap_err();
    assert!(matches!(error, Error::NeedsReauthorization { .. }), "{error:?}");
    assert!(error.to_string().contains("Signature verification failed"), "{error}");
    assert_eq!(keychain(&setup.service), kept, "the refresh's answer was not kept");
    assert_eq!(engine.connection("Work").unwrap().status, ConnectionStatus::Reauthorize);
}

/// Microsoft rotates refresh tokens and sends an ID token with each refresh. With its
/// signing keys out of reach, the refresh token is not sent at all (a refreshed ID
/// token could not be checked, and the rotated refresh token with it would be lost): the
/// connection keeps its tokens and its state, and refreshes once the keys are back.
#[tokio::test(flavor = "multi_thread")]
async fn signing_keys_are_fetched_before_a_refresh_token_leaves() {
    let (emulator, setup, engine) = engine_using_emulator("microsoft", false).await;
    sign_in(&engine, "outlook-mail", "Outlook").await.unwrap();
    let kept = keychain(&setup.service);
    let refreshes = async || {
        let log = emulator.log().await;
        log.iter()
            .filter(|r| r["body"].as_str().unwrap_or_default().contains("grant_type=refresh_token"))
            .count()
    };

    emulator.jwks_down(true).await;
    let error = engine.refresh_now("Outlook").await.unwrap_err();
    assert!(error.to_string().contains("HTTP 503"), "{error}");
    assert_eq!(refreshes().await, 0, "the refresh token was not sent");
    assert_eq!(keychain(&setup.service), kept);
    assert_ne!(engine.connection("Outlook").unwrap().status, ConnectionStatus::Reauthorize);

    emulator.jwks_down(false).await;
    engine.refresh_now("Outlook").await.unwrap();
    assert_eq!(refreshes().await, 1);
}

/// Sign-ins keep the provider's signing keys (OpenID Connect Core §10.1.1) and fetch
/// them again only when the kept ones refuse an ID token, as after the provider
/// publishes a new key. A refresh fetches them before its refresh token leaves.
#[tokio::test(flavor = "multi_thread")]
async fn sign_ins_keep_the_signing_keys_until_they_refuse_a_token() {
    let (op, setup, engine) = engine_with_local_op(BrowserMode::Consent).await;
    let jwks_requests = async || op.stats().await.jwks_requests;

    // Keys that lack the one signing now are fetched and kept; a token the keys just
    // fetched cannot check is refused.
    op.stale_next_jwks().await;
    let error = sign_in(&engine, "Local OP", "Work").await.unwrap_err();
    assert!(matches!(error, Error::ProviderError { .. }), "{error:?}");
    assert!(keychain(&setup.service).is_empty(), "nothing kept");
    assert_eq!(jwks_requests().await, 1);

    sign_in(&engine, "Local OP", "Work").await.unwrap();
    assert_eq!(jwks_requests().await, 2, "the kept keys refused it: fetched again");
    sign_in(&engine, "Local OP", "Work again").await.unwrap();
    assert_eq!(jwks_requests().await, 2, "the kept keys checked the second sign-in");
    assert_eq!(engine.connections().unwrap().len(), 2);

    engine.refresh_now("Work").await.unwrap();
    assert_eq!(jwks_requests().await, 3, "a refresh fetches the current keys");
}

/// Google's signing keys say how long to keep them (`Cache-Control: max-age`), as its
/// documentation asks clients to: a second sign-in fetches none.
#[tokio::test(flavor = "multi_thread")]
async fn google_s_signing_keys_are_kept_as_long_as_it_says() {
    let (emulator, _setup, engine) = engine_using_emulator("google", true).await;
    sign_in(&engine, "gmail", "Mail").await.unwrap();
    sign_in(&engine, "google-drive", "Drive").await.unwrap();
    let log = emulator.log().await;
    let exchanges =
        log.iter().filter(|r| r["body"].as_str().is_some_and(|b| b.contains("authorization_code")));
    assert_eq!(exchanges.count(), 2, "two sign-ins");
    assert_eq!(log.iter().filter(|r| r["path"] == "/google/jwks").count(), 1);
}

/// A provider whose configuration lists ES256 and signs this client's ID tokens with
/// an EC P-256 key (the real OpenID provider): checked at sign-in and on refresh, and a
/// broken signature is still refused.
#[tokio::test(flavor = "multi_thread")]
async fn id_tokens_signed_with_es256_are_checked() {
    let op = OidcProvider::start_with(&[("OIDC_ID_TOKEN_ALG", "ES256")]);
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    engine.add_provider(provider_input(&op.issuer)).await.unwrap();
    let kept = sign_in_keeping_the_id_token(&engine, "Local OP", named("Work"), &setup.service).await;
    let id_token = kept.iter().find_map(|(_, value)| {
        serde_json::from_str::<serde_json::Value>(value).ok()?["id_token"].as_str().map(str::to_owned)
    });
    let header = id_token.unwrap().split('.').next().unwrap().to_owned();
    let header = String::from_utf8(base64_url(&header)).unwrap();
    assert!(header.contains("\"alg\":\"ES256\""), "signed with ES256: {header}");
    engine.refresh_now("Work").await.unwrap();

    let kept = keychain(&setup.service);
    op.fault_next_id_token("signature").await;
    let error = engine.refresh_now("Work").await.unwrap_err();
    assert!(error.to_string().contains("ID token was refused"), "{error}");
    assert_eq!(keychain(&setup.service), kept, "the refresh's answer was not kept");
}

/// A provider added by its endpoints alone has no known issuer, so its ID tokens cannot
/// be checked: such a token does not get to say who signed in.
#[tokio::test(flavor = "multi_thread")]
async fn an_unchecked_id_token_does_not_name_the_account() {
    let op = OidcProvider::start();
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    let by_hand = NewProvider {
        issuer: None,
        authorize_url: Some(format!("{}/auth", op.issuer)),
        token_url: Some(format!("{}/token", op.issuer)),
        ..provider_input(&op.issuer)
    };
    engine.add_provider(by_hand).await.unwrap();
    sign_in(&engine, "Local OP", "Work").await.unwrap();
    assert!(
        keychain(&setup.service).iter().any(|(_, value)| value.contains("\"id_token\":\"ey")),
        "it sent one"
    );
    assert_eq!(engine.connection("Work").unwrap().account, None, "the unchecked ID token named nobody");
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// GitLab's `openid` scope is optional: when a connection asks for it, its ID token is
/// checked with the instance as issuer and its keys at `{site}/oauth/discovery/keys`
/// (the real OpenID provider, looking like a self-managed GitLab).
#[tokio::test(flavor = "multi_thread")]
async fn a_self_managed_gitlab_s_id_tokens_are_checked_when_openid_is_asked_for() {
    let op = OidcProvider::start_with(&[("OIDC_PROFILE", "gitlab")]);
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    let app = ProviderAppInput {
        client_id: Some("grantkeeper-gitlab".into()),
        site: Some(op.issuer.clone()),
        ..ProviderAppInput::default()
    };
    engine.set_provider_app("gitlab", app).await.unwrap();
    let with_openid = |name: &str| ConnectOptions { scopes: vec!["openid".into()], ..named(name) };

    sign_in_keeping_the_id_token(&engine, "gitlab-git", with_openid("Code"), &setup.service).await;
    engine.refresh_now("Code").await.unwrap();
    let kept = keychain(&setup.service);

    // Another sign-in's nonce, a broken signature: refused, nothing kept.
    for (fault, reason) in [("nonce", "nonce mismatch"), ("signature", "Signature verification failed")] {
        op.fault_next_id_token(fault).await;
        let pending = engine.connect("gitlab", with_openid("Projects")).await.unwrap();
        let error = pending.outcome.await.unwrap().unwrap_err();
        assert!(error.to_string().starts_with("GitLab answered"), "{fault}: {error}");
        assert_id_token_refused(error, fault, reason, &engine, &setup.service, &kept);
    }

    // `/api/v4/user` names the account by its number, which the ID token carries as
    // `sub`: a validly signed ID token for another account is refused, nothing kept.
    op.fault_next_id_token("sub").await;
    let pending = engine.connect("gitlab", with_openid("Projects")).await.unwrap();
    let error = pending.outcome.await.unwrap().unwrap_err();
    assert_refused_as_another_account(error, "GitLab", &engine, &setup.service, &kept);

    // The fault was for one answer: the next sign-in is accepted.
    sign_in(&engine, "gitlab", "Projects").await.unwrap();
    assert_eq!(engine.connections().unwrap().len(), 2);
}
