//! One grant serving several integrations, accounts kept apart, scopes the person did
//! not grant, and revocation — against the real OpenID provider dressed as a
//! self-managed GitLab (`OIDC_PROFILE=gitlab`), through the catalog's GitLab entry with
//! only its base URL changed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Setup;
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::api::ProviderAppInput;
use grantkeeper_engine::api::Revocation;
use grantkeeper_engine::{Connection, ConnectionStatus, Engine, Error, EventKind};
use grantkeeper_test_support::{secret_tool_keys, BrowserMode, OidcProvider};

const LIMIT: Duration = Duration::from_secs(60);

async fn gitlab() -> (OidcProvider, Setup) {
    let op = OidcProvider::start_with(&[("OIDC_PROFILE", "gitlab")]);
    let setup = Setup::new();
    let input = ProviderAppInput {
        client_id: Some("grantkeeper-gitlab".into()),
        site: Some(op.issuer.clone()),
        ..ProviderAppInput::default()
    };
    let app = setup.engine(BrowserMode::Consent).set_provider_app("gitlab", input).await.unwrap();
    assert_eq!(app.endpoints.authorize_url, format!("{}/oauth/authorize", op.issuer));
    (op, setup)
}

async fn connect(engine: &Arc<Engine>, integration: &str, name: &str) -> Result<Connection, Error> {
    let options = ConnectOptions { name: Some(name.into()), ..ConnectOptions::default() };
    engine.connect(integration, options).await?.outcome.await.unwrap()
}

async fn token(engine: &Engine, connection: &str) -> String {
    engine.access_token(connection, Duration::ZERO).await.unwrap().1.expose().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn integrations_of_one_account_share_a_credential_and_accounts_stay_apart() {
    let (op, setup) = gitlab().await;
    let ada = setup.engine_as(BrowserMode::Consent, "ada", LIMIT);

    one_account_s_integrations_share_one_credential(&ada, &setup).await;
    let bob = setup.engine_as(BrowserMode::Consent, "bob", LIMIT);
    another_account_gets_a_credential_of_its_own(&ada, &bob).await;
    each_connection_s_activity_is_its_own_and_its_sign_in_s(&ada);

    // Reconnecting Ada's connection while signed in as Bob changes nothing.
    let before = token(&ada, "API").await;
    let error = bob.reconnect("API").await.unwrap().outcome.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::DifferentAccount { .. }), "{error}");
    assert!(error.to_string().contains("bob") && error.to_string().contains("ada"), "{error}");
    assert_eq!(token(&ada, "API").await, before);
    assert_eq!(ada.connection("API").unwrap().status, ConnectionStatus::Active);

    // Removing one of Ada's two connections keeps the grant; the last one revokes it.
    let removal = ada.remove_connection("Git").await.unwrap();
    assert_eq!(removal.revocation, Revocation::StillInUse);
    assert_eq!(op.stats().await.revocation_requests, 0);
    let removal = ada.remove_connection("API").await.unwrap();
    assert_eq!(removal.revocation, Revocation::Revoked, "{removal:?}");
    assert!(op.stats().await.revocation_requests >= 1);
    assert_eq!(secret_tool_keys(&setup.service).iter().filter(|k| k.starts_with("credential/")).count(), 1);
    assert_eq!(bob.connection("Bob's GitLab").unwrap().status, ConnectionStatus::Active);
}

/// Ada's Git and API connections: one grant, one token set, one keychain entry.
async fn one_account_s_integrations_share_one_credential(ada: &Arc<Engine>, setup: &Setup) {
    let git = connect(ada, "gitlab-git", "Git").await.unwrap();
    assert_eq!(git.status, ConnectionStatus::Active);
    assert_eq!(git.account.as_deref(), Some("ada"));
    assert!(git.scopes.contains(&"write_repository".to_owned()), "{:?}", git.scopes);
    assert!(!git.scopes.contains(&"api".to_owned()));

    // GitLab cannot grow a grant, so the second integration asks for everything the
    // credential has plus its own, and the answer replaces the one grant.
    let api = connect(ada, "gitlab", "API").await.unwrap();
    assert_eq!(api.status, ConnectionStatus::Active, "{api:?}");
    let connections = ada.connections().unwrap();
    assert_eq!(connections.len(), 2);
    for connection in &connections {
        assert_eq!(connection.status, ConnectionStatus::Active, "{connection:?}");
        for scope in ["read_user", "write_repository", "api"] {
            assert!(connection.scopes.contains(&scope.to_owned()), "{scope} in {connection:?}");
        }
    }
    assert_eq!(token(ada, "Git").await, token(ada, "API").await, "one credential, one token set");
    assert_eq!(secret_tool_keys(&setup.service).iter().filter(|k| k.starts_with("credential/")).count(), 1);
    assert_eq!(ada.connection("Git").unwrap().shared_with, ["API"]);
    assert_eq!(ada.connection("API").unwrap().shared_with, ["Git"]);
}

/// Bob is another account: a second credential beside Ada's, never in its place.
async fn another_account_gets_a_credential_of_its_own(ada: &Arc<Engine>, bob: &Arc<Engine>) {
    let bobs = connect(bob, "gitlab", "Bob's GitLab").await.unwrap();
    assert!(bobs.shared_with.is_empty(), "another account's credential is its own: {bobs:?}");
    assert_eq!(bobs.account.as_deref(), Some("bob"));
    assert_ne!(token(bob, "Bob's GitLab").await, token(ada, "API").await);
    assert_eq!(ada.connections().unwrap().len(), 3);
}

/// Each connection's activity: its own and its sign-in's, never another account's.
fn each_connection_s_activity_is_its_own_and_its_sign_in_s(ada: &Engine) {
    let subjects = |key: &str| -> Vec<(EventKind, String)> {
        let events = ada.connection_activity(key, 50).unwrap();
        events.into_iter().map(|e| (e.kind, e.subject.unwrap_or_default())).collect()
    };
    let shared =
        [(EventKind::ConnectionAdded, "API".to_owned()), (EventKind::CredentialCreated, "Git".to_owned())];
    assert_eq!(subjects("Git"), shared, "the grant grew for API on Git's sign-in");
    assert_eq!(subjects("API"), shared);
    assert_eq!(subjects("Bob's GitLab"), [(EventKind::CredentialCreated, "Bob's GitLab".to_owned())]);
    assert_eq!(ada.activity(50).unwrap().len(), 3);
    assert!(matches!(ada.connection_activity("nobody", 50), Err(Error::NotFound { .. })));
    let blank = ada.connection(" ").unwrap_err();
    assert_eq!(blank.field(), Some("connection"), "{blank}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_grant_needs_more_access_and_grant_access_asks_for_the_rest() {
    let (op, setup) = gitlab().await;
    let engine = setup.engine(BrowserMode::Consent);

    op.withhold(&["write_repository"]).await;
    let git = connect(&engine, "gitlab-git", "Git").await.unwrap();
    assert_eq!(git.status, ConnectionStatus::NeedsMoreAccess, "{git:?}");
    assert_eq!(git.missing_scopes, ["write_repository"]);
    // The token still works for what was granted.
    assert!(!token(&engine, "Git").await.is_empty());

    op.withhold(&[]).await;
    let granted = engine.grant_access("Git").await.unwrap().outcome.await.unwrap().unwrap();
    assert_eq!(granted.id, git.id, "the connection keeps its id");
    assert_eq!(granted.status, ConnectionStatus::Active, "{granted:?}");
    assert!(granted.missing_scopes.is_empty());

    let error = engine.grant_access("Git").await.err().unwrap();
    assert!(error.to_string().contains("already has all the access"), "{error}");
}
