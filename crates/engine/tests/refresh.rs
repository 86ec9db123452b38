//! Refresh against the real OpenID provider (rotating refresh tokens) and keychain:
//! one refresh reaches the provider, the keychain holds the new tokens, and only the
//! provider's own refusal moves a connection to Reauthorize.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{named, provider_input, Setup};
use grantkeeper_engine::{Connection, ConnectionStatus, Engine, Error, EventKind};
use grantkeeper_test_support::{secret_tool_keys, secret_tool_lookup, BrowserMode, OidcProvider};

/// The test provider (started with `env`), and an engine with its "Work" connection.
async fn connected_as_work(env: &[(&str, &str)]) -> (OidcProvider, Setup, Arc<Engine>, Connection) {
    let op = OidcProvider::start_with(env);
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    engine.add_provider(provider_input(&op.issuer)).await.unwrap();
    let connection = engine.connect("Local OP", named("Work")).await.unwrap().outcome.await.unwrap().unwrap();
    (op, setup, engine, connection)
}

const LONGER_THAN_ANY_TOKEN: Duration = Duration::from_secs(100_000);

fn stored_tokens(setup: &Setup) -> serde_json::Value {
    let keys = secret_tool_keys(&setup.service);
    let credential_keys: Vec<_> = keys.iter().filter(|k| k.starts_with("credential/")).collect();
    assert_eq!(credential_keys.len(), 1, "one keychain item per credential: {keys:?}");
    serde_json::from_str(&secret_tool_lookup(&setup.service, credential_keys[0]).unwrap()).unwrap()
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_once_and_stored_in_the_keychain() {
    let (op, setup, engine, _) = connected_as_work(&[]).await;
    let before = stored_tokens(&setup);

    // Still valid for a minute: no refresh.
    let (_, token) = engine.access_token("Work", Duration::from_secs(60)).await.unwrap();
    assert_eq!(token.expose(), before["access_token"]);
    assert_eq!(op.stats().await.token_requests.get("refresh_token"), None);

    let (connection, token) = engine.access_token("Work", LONGER_THAN_ANY_TOKEN).await.unwrap();
    assert_eq!(op.stats().await.token_requests.get("refresh_token"), Some(&1), "one refresh at the provider");
    let after = stored_tokens(&setup);
    assert_eq!(token.expose(), after["access_token"], "the keychain holds the token handed out");
    assert_ne!(after["access_token"], before["access_token"]);
    assert_ne!(after["refresh_token"], before["refresh_token"], "the rotated refresh token was stored");
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert!(connection.last_refreshed_at.is_some());

    // The rotated refresh token works: refresh again, explicitly.
    let refreshed = engine.refresh_now("Work").await.unwrap();
    assert_eq!(refreshed.status, ConnectionStatus::Active);
    assert_eq!(op.stats().await.token_requests.get("refresh_token"), Some(&2));
    assert_ne!(stored_tokens(&setup)["refresh_token"], after["refresh_token"]);
}

#[tokio::test]
async fn a_revoked_grant_moves_to_reauthorize_and_reconnect_brings_it_back() {
    let (op, setup, engine, connection) = connected_as_work(&[]).await;
    let before = stored_tokens(&setup);
    assert!(op.revoke_grants("ada").await >= 1);

    let error = engine.access_token("Work", LONGER_THAN_ANY_TOKEN).await.unwrap_err();
    assert!(matches!(error, Error::NeedsReauthorization { .. }), "{error:?}");
    assert!(error.to_string().contains("invalid_grant"), "{error}");
    assert_eq!(engine.connection("Work").unwrap().status, ConnectionStatus::Reauthorize);
    assert_eq!(stored_tokens(&setup), before, "no token is dropped");
    // Asking again does not send the dead refresh token a second time.
    assert!(matches!(
        engine.access_token("Work", Duration::ZERO).await,
        Err(Error::NeedsReauthorization { .. })
    ));
    assert_eq!(op.stats().await.token_requests.get("refresh_token"), Some(&1));

    let back = engine.reconnect("Work").await.unwrap().outcome.await.unwrap().unwrap();
    assert_eq!(back.id, connection.id);
    assert_eq!(back.status, ConnectionStatus::Active);
    assert!(engine.access_token("Work", Duration::ZERO).await.is_ok());

    // The activity log tells the story, by connection name, without a secret.
    let activity = engine.activity(10).unwrap();
    let kinds: Vec<_> = activity.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::CredentialReauthorized, EventKind::NeedsReauthorization, EventKind::CredentialCreated]
    );
    assert!(activity.iter().all(|e| e.subject.as_deref() == Some("Work")));
    assert!(activity[1].detail.as_deref().unwrap().contains("invalid_grant"));
    let logged = serde_json::to_string(&activity).unwrap();
    for secret in [&before["access_token"], &before["refresh_token"]] {
        assert!(!logged.contains(secret.as_str().unwrap()));
    }
}

#[tokio::test]
async fn an_unreachable_provider_keeps_the_connection_active() {
    let (op, setup, engine, _) = connected_as_work(&[]).await;
    let before = stored_tokens(&setup);
    drop(op);

    let error = engine.access_token("Work", LONGER_THAN_ANY_TOKEN).await.unwrap_err();
    assert!(matches!(error, Error::ProviderUnreachable { .. }), "{error:?}");
    assert_eq!(engine.connection("Work").unwrap().status, ConnectionStatus::Active);
    assert_eq!(stored_tokens(&setup), before);
}

/// Waits up to `limit` for `check`, polling every 200 ms.
async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test]
async fn the_scheduler_refreshes_before_expiry_without_being_asked() {
    // 8 s tokens: due 2 s (a quarter) before expiry, less a little jitter.
    let (op, setup, engine, _) = connected_as_work(&[("OIDC_ACCESS_TOKEN_TTL", "8")]).await;
    let before = stored_tokens(&setup);
    let scheduler = tokio::spawn(engine.clone().run_scheduler());

    // The provider answers before the engine has stored the result: wait for the latter.
    let refreshed = eventually(Duration::from_secs(15), async || {
        engine.connection("Work").unwrap().last_refreshed_at.is_some()
    })
    .await;
    assert!(refreshed, "the scheduler refreshed within 15 s");
    assert_eq!(op.stats().await.token_requests.get("refresh_token"), Some(&1));
    let connection = engine.connection("Work").unwrap();
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert_ne!(stored_tokens(&setup)["access_token"], before["access_token"]);
    let expires_at = connection.expires_at.unwrap();
    assert!(expires_at > grantkeeper_engine::Timestamp::now(), "the stored token has not expired");
    scheduler.abort();
}

/// Tokens that last a second: refreshing each time one falls due would never stop.
/// The scheduler and `token` ask at most once a minute, and the activity log says why.
#[tokio::test]
async fn tokens_that_last_a_second_are_not_refreshed_in_a_loop() {
    let (op, _setup, engine, _) = connected_as_work(&[("OIDC_ACCESS_TOKEN_TTL", "1")]).await;
    let scheduler = tokio::spawn(engine.clone().run_scheduler());
    for _ in 0..20 {
        engine.access_token("Work", Duration::ZERO).await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    scheduler.abort();
    assert_eq!(op.stats().await.token_requests.get("refresh_token"), Some(&1), "one refresh in 5 s");
    let activity = engine.activity(10).unwrap();
    let refreshed = activity.iter().find(|e| e.kind == EventKind::CredentialRefreshed).unwrap();
    let note = refreshed.detail.as_deref().unwrap_or_default();
    assert!(note.contains("last only 1 s") && note.contains("at most once a minute"), "{note}");
    assert_eq!(engine.connection("Work").unwrap().status, ConnectionStatus::Active);
}

#[tokio::test]
async fn the_scheduler_retries_an_unreachable_provider_and_stays_usable() {
    let (op, setup, engine, _) = connected_as_work(&[("OIDC_ACCESS_TOKEN_TTL", "4")]).await;
    let before = stored_tokens(&setup);
    drop(op);
    let scheduler = tokio::spawn(engine.clone().run_scheduler());

    let retrying = eventually(Duration::from_secs(10), async || {
        engine.connection("Work").unwrap().status == ConnectionStatus::Retrying
    })
    .await;
    assert!(retrying, "marked retrying, not Reauthorize");
    let connection = engine.connection("Work").unwrap();
    assert!(connection.status_reason.unwrap().contains("Could not reach"));
    assert_eq!(stored_tokens(&setup), before, "no token dropped");
    scheduler.abort();
}

#[tokio::test]
async fn tokens_missing_from_the_keychain_are_found_on_start() {
    let (_op, setup, _, _) = connected_as_work(&[]).await;
    let keys = secret_tool_keys(&setup.service);
    let status = std::process::Command::new("secret-tool")
        .args(["clear", "service", &setup.service, "username", &keys[0]])
        .status()
        .unwrap();
    assert!(status.success());

    let restarted = setup.engine(BrowserMode::Consent);
    restarted.repair().await.unwrap();
    let connection = restarted.connection("Work").unwrap();
    assert_eq!(connection.status, ConnectionStatus::Reauthorize);
    assert!(connection.status_reason.unwrap().contains("missing from the keychain"));
}

/// The same for an entry changed outside Grantkeeper so that it holds no tokens.
#[tokio::test]
async fn tokens_unreadable_in_the_keychain_are_found_on_start() {
    let (_op, setup, _, _) = connected_as_work(&[]).await;
    let keys = secret_tool_keys(&setup.service);
    grantkeeper_test_support::secret_tool_store(&setup.service, &keys[0], "not tokens");

    let restarted = setup.engine(BrowserMode::Consent);
    restarted.repair().await.unwrap();
    let connection = restarted.connection("Work").unwrap();
    assert_eq!(connection.status, ConnectionStatus::Reauthorize);
    assert!(connection.status_reason.unwrap().contains("unreadable"));
}
