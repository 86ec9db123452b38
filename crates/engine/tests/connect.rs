//! Connecting an account end to end with the real parts: the OpenID provider on
//! loopback, the stand-in browser, the Secret Service keyring and a SQLite file.

mod common;

use std::time::Duration;

use common::{engine_with_local_op, named, provider_input, Setup};
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::{ConnectionStatus, EngineEvent, Error, ErrorCode, NewProvider};
use grantkeeper_test_support::{
    contains, data_dir_bytes, secret_tool_keys, secret_tool_lookup, BrowserMode, OidcProvider,
};

#[tokio::test]
async fn connect_stores_tokens_in_the_keychain_and_metadata_in_sqlite() {
    let op = OidcProvider::start();
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    let provider = engine.add_provider(provider_input(&op.issuer)).await.unwrap();
    assert_eq!(provider.issuer.as_deref(), Some(op.issuer.as_str()));

    let mut events = engine.subscribe();
    let pending = engine.connect("Local OP", named("Work")).await.unwrap();
    assert!(pending.started.authorize_url.contains("code_challenge_method=S256"));
    let connection = pending.outcome.await.unwrap().unwrap();

    assert_eq!(connection.name, "Work");
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert_eq!(connection.account.as_deref(), Some("ada@example.test"));
    for scope in ["openid", "email", "offline_access"] {
        assert!(connection.scopes.iter().any(|s| s == scope), "{scope} in {:?}", connection.scopes);
    }
    assert!(connection.expires_at.is_some());
    assert_eq!(op.stats().await.token_requests.get("authorization_code"), Some(&1));

    // The window hears about it without polling.
    let mut kinds = Vec::new();
    while let Ok(event) = events.try_recv() {
        kinds.push(serde_json::to_value(&event).unwrap()["kind"].as_str().unwrap().to_owned());
    }
    assert!(kinds.contains(&"flow_completed".to_owned()), "{kinds:?}");

    // The tokens are in the keychain, read back independently, and nowhere on disk.
    let keys = secret_tool_keys(&setup.service);
    assert_eq!(keys.len(), 1, "one keychain item for the credential: {keys:?}");
    let stored: serde_json::Value =
        serde_json::from_str(&secret_tool_lookup(&setup.service, &keys[0]).unwrap()).unwrap();
    let access_token = stored["access_token"].as_str().unwrap().to_owned();
    let refresh_token =
        stored["refresh_token"].as_str().expect("offline_access gives a refresh token").to_owned();
    let (_, token) = engine.access_token("Work", Duration::ZERO).await.unwrap();
    assert_eq!(token.expose(), access_token);
    let disk = data_dir_bytes(setup.home.path());
    assert!(!disk.is_empty());
    for secret in [&access_token, &refresh_token] {
        assert!(!contains(&disk, secret), "a token reached the data directory");
    }
    assert!(!format!("{:?}", engine.connections().unwrap()).contains(&access_token));

    // Another process (or a restart) sees the same connection, still Active.
    drop(engine);
    let reopened = setup.engine(BrowserMode::Consent);
    let again = reopened.connection(&connection.id).unwrap();
    assert_eq!(again.status, ConnectionStatus::Active);
    assert_eq!(again.account.as_deref(), Some("ada@example.test"));

    reopened.remove_connection("Work").await.unwrap();
    assert!(reopened.connections().unwrap().is_empty());
    assert!(secret_tool_keys(&setup.service).is_empty(), "keychain item removed");
    assert!(matches!(reopened.access_token("Work", Duration::ZERO).await, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn declined_consent_leaves_nothing_behind() {
    let (op, setup, engine) = engine_with_local_op(BrowserMode::Deny).await;
    let pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
    let error = pending.outcome.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::AccessDenied { .. }), "{error:?}");
    assert_eq!(error.to_string(), "You declined access at Local OP. Nothing was saved.");
    assert!(engine.connections().unwrap().is_empty());
    assert!(secret_tool_keys(&setup.service).is_empty());
    assert_eq!(op.stats().await.token_requests.get("authorization_code"), None, "no code was redeemed");
}

/// RFC 9207: the test provider's configuration promises `iss` in every authorization
/// response. A callback without it, or with a second one (a mix-up attacker's), is
/// refused before its code is redeemed.
#[tokio::test]
async fn a_callback_without_its_issuer_or_with_two_is_refused() {
    for (browser, expected) in [
        (BrowserMode::DropIss, "does not say which issuer sent it"),
        (BrowserMode::RepeatIss, "repeats a parameter"),
    ] {
        let (op, setup, engine) = engine_with_local_op(browser).await;
        let pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
        let error = pending.outcome.await.unwrap().unwrap_err();
        assert!(error.to_string().contains(expected), "{browser:?}: {error}");
        assert!(engine.connections().unwrap().is_empty());
        assert!(secret_tool_keys(&setup.service).is_empty());
        assert_eq!(op.stats().await.token_requests.get("authorization_code"), None, "no code was redeemed");
    }
}

/// OpenID Connect Core §3.1.3.7: an ID token from another sign-in (wrong nonce) or
/// with a broken signature is refused after the code exchange, and nothing is kept.
#[tokio::test]
async fn a_forged_or_replayed_id_token_is_refused() {
    let (op, setup, engine) = engine_with_local_op(BrowserMode::Consent).await;
    let pending = engine.connect("Local OP", named("Checked")).await.unwrap();
    assert!(pending.started.authorize_url.contains("&nonce="), "a nonce is sent");
    pending.outcome.await.unwrap().unwrap();
    engine.remove_connection("Checked").await.unwrap();

    for (fault, reason) in [("nonce", "nonce mismatch"), ("signature", "Signature verification failed")] {
        op.fault_next_id_token(fault).await;
        let error =
            engine.connect("Local OP", named("Work")).await.unwrap().outcome.await.unwrap().unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, Error::ProviderError { .. }), "{fault}: {error:?}");
        assert!(message.contains("ID token was refused") && message.contains(reason), "{fault}: {message}");
        assert!(engine.connections().unwrap().is_empty(), "{fault}: nothing saved");
        assert!(secret_tool_keys(&setup.service).is_empty(), "{fault}: no token kept");
    }
}

/// A window that missed a sign-in's end event asks how it ended: nothing while it runs,
/// then what the event said.
#[tokio::test]
async fn how_a_sign_in_ended_can_be_asked_after_its_event() {
    let (_op, _setup, engine) = engine_with_local_op(BrowserMode::Consent).await;
    let pending = engine.connect("Local OP", named("Work")).await.unwrap();
    let flow_id = pending.started.flow_id.clone();
    let connection = pending.outcome.await.unwrap().unwrap();
    match engine.flow_end(&flow_id) {
        Some(EngineEvent::FlowCompleted { flow_id: id, connection_id }) => {
            assert_eq!((id, connection_id), (flow_id, connection.id));
        }
        other => panic!("not the completed flow: {other:?}"),
    }
    assert!(engine.flow_end("no-such-flow").is_none());

    let (_op, _setup, engine) = engine_with_local_op(BrowserMode::Ignore).await;
    let pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
    let flow_id = pending.started.flow_id.clone();
    assert!(engine.flow_end(&flow_id).is_none(), "it still runs");
    engine.cancel_flow(&flow_id).unwrap();
    pending.outcome.await.unwrap().unwrap_err();
    match engine.flow_end(&flow_id) {
        Some(EngineEvent::FlowFailed { flow_id: id, error }) => {
            assert_eq!((id, error.code), (flow_id, ErrorCode::FlowCancelled));
        }
        other => panic!("not the cancelled flow: {other:?}"),
    }
}

#[tokio::test]
async fn a_flow_can_be_cancelled_and_expires() {
    let op = OidcProvider::start();
    let setup = Setup::new();
    let engine = setup.engine_with(BrowserMode::Ignore, Duration::from_millis(1500));
    engine.add_provider(provider_input(&op.issuer)).await.unwrap();

    let pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
    let port = redirect_port(&pending.started.authorize_url);
    engine.cancel_flow(&pending.started.flow_id).unwrap();
    assert!(matches!(pending.outcome.await.unwrap(), Err(Error::FlowCancelled)));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "listener closed on cancel");

    let pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
    let port = redirect_port(&pending.started.authorize_url);
    assert!(matches!(pending.outcome.await.unwrap(), Err(Error::FlowExpired)));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "listener closed on expiry");
    assert!(engine.connections().unwrap().is_empty());
}

#[tokio::test]
async fn bad_provider_input_is_refused_and_nothing_is_saved() {
    let op = OidcProvider::start();
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);

    let liar = engine.add_provider(provider_input(&format!("{}/liar", op.issuer))).await.unwrap_err();
    assert!(matches!(liar, Error::IssuerMismatch { .. }), "{liar:?}");
    assert_eq!(liar.field(), Some("issuer"));

    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable =
        engine.add_provider(provider_input(&format!("http://127.0.0.1:{closed_port}"))).await.unwrap_err();
    assert!(matches!(unreachable, Error::DiscoveryFailed { .. }), "{unreachable:?}");

    let plain_http = engine.add_provider(provider_input("http://sso.example.com")).await.unwrap_err();
    assert_eq!(plain_http.field(), Some("issuer"));

    let missing_client = engine
        .add_provider(NewProvider { client_id: " ".into(), ..provider_input(&op.issuer) })
        .await
        .unwrap_err();
    assert_eq!(missing_client.field(), Some("client_id"));

    assert!(engine.providers().unwrap().is_empty());
    assert!(secret_tool_keys(&setup.service).is_empty());

    engine.add_provider(provider_input(&op.issuer)).await.unwrap();
    let duplicate = engine.add_provider(provider_input(&op.issuer)).await.unwrap_err();
    assert_eq!(duplicate.field(), Some("name"));
    // Another name for the same authorization server is refused too.
    let same_issuer = NewProvider { name: "Local OP again".into(), ..provider_input(&op.issuer) };
    let error = engine.add_provider(same_issuer).await.unwrap_err();
    assert_eq!(error.field(), Some("issuer"));
    assert!(error.to_string().contains("Local OP already uses the issuer"), "{error}");
    // So is a built-in provider's name.
    let builtin_name = NewProvider { name: "google".into(), ..provider_input(&op.issuer) };
    assert_eq!(engine.add_provider(builtin_name).await.unwrap_err().field(), Some("name"));
    assert_eq!(engine.providers().unwrap().len(), 1);
}

#[tokio::test]
async fn a_confidential_client_keeps_its_secret_in_the_keychain_only() {
    let op = OidcProvider::start();
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    let secret = "canary-client-secret-7f3a";
    let provider = engine
        .add_provider(NewProvider {
            client_id: "grantkeeper-confidential".into(),
            client_secret: Some(secret.into()),
            ..provider_input(&op.issuer)
        })
        .await
        .unwrap();
    assert_eq!(provider.client_secret_last4.as_deref(), Some("7f3a"));
    assert!(!serde_json::to_string(&provider).unwrap().contains(secret));

    let connection =
        engine.connect("Local OP", ConnectOptions::default()).await.unwrap().outcome.await.unwrap().unwrap();
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert!(!contains(&data_dir_bytes(setup.home.path()), secret));
    let keys = secret_tool_keys(&setup.service);
    let secret_key = keys.iter().find(|k| k.starts_with("provider-app/")).expect("client secret item");
    assert_eq!(secret_tool_lookup(&setup.service, secret_key).as_deref(), Some(secret));
}

#[tokio::test]
async fn reconnect_keeps_the_connection_id_and_refuses_another_account() {
    let (_op, setup, engine) = engine_with_local_op(BrowserMode::Consent).await;
    let first = engine.connect("Local OP", named("Work")).await.unwrap().outcome.await.unwrap().unwrap();
    let (_, first_token) = engine.access_token("Work", Duration::ZERO).await.unwrap();

    let again = engine.reconnect("Work").await.unwrap().outcome.await.unwrap().unwrap();
    assert_eq!(again.id, first.id, "the connection keeps its id");
    assert_eq!(engine.connections().unwrap().len(), 1);
    let (_, second_token) = engine.access_token("Work", Duration::ZERO).await.unwrap();
    assert_ne!(second_token.expose(), first_token.expose(), "the new grant's token is in use");
    assert_eq!(secret_tool_keys(&setup.service).len(), 1, "the old keychain item is gone");

    // Signing in as someone else changes nothing.
    let as_grace = setup.engine_as(BrowserMode::Consent, "grace", Duration::from_secs(60));
    let error = as_grace.reconnect(&first.id).await.unwrap().outcome.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::DifferentAccount { .. }), "{error:?}");
    assert!(error.to_string().contains("grace@example.test"), "{error}");
    let (_, kept) = as_grace.access_token("Work", Duration::ZERO).await.unwrap();
    assert_eq!(kept.expose(), second_token.expose());
    assert_eq!(secret_tool_keys(&setup.service).len(), 1);
    assert_eq!(as_grace.connection("Work").unwrap().account.as_deref(), Some("ada@example.test"));
}

fn redirect_port(authorize_url: &str) -> u16 {
    let url = url::Url::parse(authorize_url).unwrap();
    let redirect = url.query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
    let redirect = url::Url::parse(&redirect).unwrap();
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    assert_eq!(redirect.path(), "/callback");
    redirect.port().unwrap()
}

#[tokio::test]
async fn changes_made_by_another_process_are_announced() {
    let op = OidcProvider::start();
    let setup = Setup::new();
    let app = setup.engine(BrowserMode::Consent);
    let _watch = app.watch_database().unwrap();
    let mut events = app.subscribe();
    // A second engine on the same data directory stands in for the CLI.
    let cli = setup.engine(BrowserMode::Consent);
    cli.add_provider(provider_input(&op.issuer)).await.unwrap();

    let heard = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = events.recv().await.unwrap();
            if serde_json::to_value(&event).unwrap()["kind"] == "providers_changed" {
                return;
            }
        }
    })
    .await;
    assert!(heard.is_ok(), "the app heard about the other process's change");
    assert_eq!(app.providers().unwrap().len(), 1);
}
