//! API-key connections and "Test connection", against local emulators of the services'
//! check endpoints and the real keychain.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{emulator_and_engine, engine_using_emulator, Setup};
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::api::NewApiKey;
use grantkeeper_engine::{Connection, ConnectionStatus, Engine, Error};
use grantkeeper_test_support::{contains, data_dir_bytes, secret_tool_keys, ProviderEmulator};

fn key_input(emulator: &ProviderEmulator, service: &str, fields: &[(&str, &str)]) -> NewApiKey {
    NewApiKey {
        name: None,
        fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())).collect::<BTreeMap<_, _>>(),
        base_url: Some(emulator.service_url(service)),
        check: true,
        replace: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_checked_kept_in_the_keychain_and_handed_out() {
    let (emulator, setup, engine) = emulator_and_engine();
    let key = "sk-canary-openai-key-good";
    refused_keys_are_not_saved(&engine, &emulator, &setup).await;
    let openai = an_openai_key_is_checked_and_only_in_the_keychain(&engine, &emulator, &setup, key).await;
    twilio_keeps_a_plain_account_sid_beside_the_secret(&engine, &emulator, &setup).await;

    // Anthropic: its own header and API version.
    let anthropic = key_input(&emulator, "anthropic", &[("api_key", "sk-ant-canary-good")]);
    engine.add_api_key("anthropic", anthropic).await.unwrap();
    // Figma: a personal access token in X-Figma-Token; the check names the account.
    let figma = key_input(&emulator, "figma-token", &[("token", "figd_canary-good")]);
    let figma = engine.add_api_key("figma-token", figma).await.unwrap();
    assert_eq!(figma.account.as_deref(), Some("ada@example.test"));

    // Deleted at the service: the next test says so, and the connection needs a new key.
    emulator.reject_key(key).await;
    let error = engine.test_connection("OpenAI").await.unwrap_err();
    assert!(matches!(error, Error::KeyRefused { .. }), "{error}");
    assert_eq!(engine.connection("OpenAI").unwrap().status, ConnectionStatus::Reauthorize);
    // Asked for its key now, it is told how to paste a new one, not to reconnect.
    let told = engine.access_token("OpenAI", Duration::ZERO).await.err().unwrap().to_string();
    assert!(
        told.contains("needs a new key") && told.contains("keys add openai --replace \"OpenAI\""),
        "{told}"
    );
    assert!(engine
        .reconnect("OpenAI")
        .await
        .err()
        .unwrap()
        .to_string()
        .contains("keys add openai --replace"));

    // A new key replaces it in place: same id, Active again, the old key gone.
    let mut replacement = key_input(&emulator, "openai", &[("api_key", "sk-canary-second-good")]);
    replacement.replace = Some("OpenAI".into());
    let replaced = engine.add_api_key("openai", replacement).await.unwrap();
    assert_eq!((replaced.id.as_str(), replaced.status), (openai.id.as_str(), ConnectionStatus::Active));
    assert_eq!(
        engine.access_token("OpenAI", Duration::ZERO).await.unwrap().1.expose(),
        "sk-canary-second-good"
    );
    assert_eq!(secret_tool_keys(&setup.service).iter().filter(|k| k.starts_with("credential/")).count(), 4);

    // Keys do not refresh, and removal deletes the key (services offer no revocation).
    let error = engine.refresh_now("OpenAI").await.unwrap_err();
    assert!(error.to_string().contains("API key"), "{error}");
    engine.remove_connection("OpenAI").await.unwrap();
    assert_eq!(secret_tool_keys(&setup.service).iter().filter(|k| k.starts_with("credential/")).count(), 3);
}

/// A key the service refuses is not saved.
async fn refused_keys_are_not_saved(engine: &Engine, emulator: &ProviderEmulator, setup: &Setup) {
    let error = engine
        .add_api_key("openai", key_input(emulator, "openai", &[("api_key", "sk-canary-wrong")]))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::KeyRejected { status: 401, .. }), "{error}");
    assert!(engine.connections().unwrap().is_empty());
    assert!(secret_tool_keys(&setup.service).is_empty(), "nothing half written");

    // Wrong-looking input is refused before any request, naming the field.
    let error = engine
        .add_api_key("openai", key_input(emulator, "openai", &[("api_key", "pk-x")]))
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("api_key"));
    assert!(error.to_string().contains("sk-"), "{error}");
    let error = engine.add_api_key("openai", key_input(emulator, "openai", &[])).await.unwrap_err();
    assert_eq!(error.field(), Some("api_key"));
    let long = format!("sk-{}", "k".repeat(5000));
    let error =
        engine.add_api_key("openai", key_input(emulator, "openai", &[("api_key", &long)])).await.unwrap_err();
    assert!(error.to_string().contains("longer than any service's"), "{error}");
    let odd = [("api_key", "sk-canary-openai-key-good"), ("org\u{1b}[2J", "x")];
    let error = engine.add_api_key("openai", key_input(emulator, "openai", &odd)).await.unwrap_err();
    assert_eq!(error.field(), Some("fields"));
    assert!(error.to_string().contains("no field “org [2J”"), "{error}");
    let error = engine.add_api_key("gmail", key_input(emulator, "openai", &[])).await.unwrap_err();
    assert!(error.to_string().contains("signing in"), "{error}");
}

/// What is wrong with the request itself is said before the service is asked about the
/// key: a field the service does not have, a connection of another service (or only
/// the start of a name) to replace, a name taken. And a key is not asked for scopes.
#[tokio::test(flavor = "multi_thread")]
async fn a_misdirected_key_is_refused_before_the_service_is_asked() {
    let (emulator, _setup, engine) = emulator_and_engine();
    let checks = || async { emulator.log().await.iter().filter(|r| r["provider"] != "test").count() };
    engine
        .add_api_key("openai", key_input(&emulator, "openai", &[("api_key", "sk-canary-good")]))
        .await
        .unwrap();
    let asked = checks().await;

    // A misspelt field is named, though the field it stands for is missing too.
    let misspelt = key_input(&emulator, "twilio", &[("auth_token", "canary-good"), ("acount_sid", "AC1")]);
    let error = engine.add_api_key("twilio", misspelt).await.unwrap_err();
    assert_eq!(error.field(), Some("fields"));
    assert!(
        error.to_string().contains("no field “acount_sid”; its fields are account_sid, auth_token"),
        "{error}"
    );

    let mut elsewhere = key_input(&emulator, "anthropic", &[("api_key", "sk-ant-canary-good")]);
    elsewhere.replace = Some("OpenAI".into());
    let error = engine.add_api_key("anthropic", elsewhere).await.unwrap_err();
    assert_eq!(error.field(), Some("replace"));
    assert!(error.to_string().contains("“OpenAI” is a connection to OpenAI, not to Anthropic"), "{error}");

    // The old key is deleted, so only a whole name or id picks the connection.
    let mut prefix = key_input(&emulator, "openai", &[("api_key", "sk-canary-other-good")]);
    prefix.replace = Some("Open".into());
    let error = engine.add_api_key("openai", prefix).await.unwrap_err();
    assert!(error.to_string().contains("“Open” is only the start of “OpenAI”"), "{error}");

    let mut taken = key_input(&emulator, "anthropic", &[("api_key", "sk-ant-canary-good")]);
    taken.name = Some("openai".into());
    let error = engine.add_api_key("anthropic", taken).await.unwrap_err();
    assert!(error.to_string().contains("already exists"), "{error}");

    assert_eq!(checks().await, asked, "no key was sent to a service");
    assert_eq!(engine.connections().unwrap().len(), 1);

    // A key has no scopes: a script requiring one is told so, not to grant access.
    let error = engine.require_scopes("OpenAI", &["models.read".into()]).unwrap_err();
    assert_eq!(error.field(), Some("scopes"));
    assert!(error.to_string().contains("is an API key, which has no scopes"), "{error}");
    engine.require_scopes("OpenAI", &[]).unwrap();
}

/// A good key is saved, handed out as the token, tested, and kept only in the keychain.
async fn an_openai_key_is_checked_and_only_in_the_keychain(
    engine: &Engine,
    emulator: &ProviderEmulator,
    setup: &Setup,
    key: &str,
) -> Connection {
    let openai =
        engine.add_api_key("openai", key_input(emulator, "openai", &[("api_key", key)])).await.unwrap();
    assert_eq!(openai.status, ConnectionStatus::Active);
    assert_eq!((openai.name.as_str(), openai.provider.as_str()), ("OpenAI", "OpenAI"));
    assert_eq!(openai.account.as_deref(), Some("key •••• good"));
    let (_, token) = engine.access_token("OpenAI", Duration::from_secs(3600)).await.unwrap();
    assert_eq!(token.expose(), key);
    assert!(!contains(&data_dir_bytes(setup.home.path()), key), "the key is only in the keychain");
    assert!(!format!("{:?}", engine.connections().unwrap()).contains(key));
    assert_eq!(engine.test_connection("OpenAI").await.unwrap().connection, "OpenAI");
    openai
}

/// Twilio: a plain Account SID beside the secret token, both used by the check.
async fn twilio_keeps_a_plain_account_sid_beside_the_secret(
    engine: &Engine,
    emulator: &ProviderEmulator,
    setup: &Setup,
) {
    let twilio = engine
        .add_api_key(
            "twilio",
            key_input(emulator, "twilio", &[("account_sid", "AC0123"), ("auth_token", "canary-twilio-good")]),
        )
        .await
        .unwrap();
    assert_eq!(twilio.account.as_deref(), Some("Ada's account"));
    assert_eq!(engine.access_token("Twilio", Duration::ZERO).await.unwrap().1.expose(), "canary-twilio-good");
    assert!(contains(&data_dir_bytes(setup.home.path()), "AC0123"), "the SID is not secret");
}

/// A new key for a connection changes the key alone: it goes to the connection's own
/// address (a compatible or regional service), never the catalog's, and the Account
/// SID stays, when neither is given again.
#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_key_keeps_the_connections_address_and_plain_fields() {
    let (emulator, _setup, engine) = emulator_and_engine();
    let openai = key_input(&emulator, "openai", &[("api_key", "sk-canary-first-good")]);
    engine.add_api_key("openai", openai).await.unwrap();
    let twilio =
        key_input(&emulator, "twilio", &[("account_sid", "AC0123"), ("auth_token", "canary-tw-good")]);
    engine.add_api_key("twilio", twilio).await.unwrap();
    let asked = || async { emulator.log().await.iter().filter(|r| r["provider"] == "openai").count() };
    let before = asked().await;

    let mut openai = key_input(&emulator, "openai", &[("api_key", "sk-canary-second-good")]);
    (openai.replace, openai.base_url) = (Some("OpenAI".into()), None);
    engine.add_api_key("openai", openai).await.unwrap();
    assert_eq!(asked().await, before + 1, "the new key was checked at the connection's address");
    engine.test_connection("OpenAI").await.unwrap();
    assert_eq!(asked().await, before + 2);

    let mut twilio = key_input(&emulator, "twilio", &[("auth_token", "canary-tw-second-good")]);
    (twilio.replace, twilio.base_url) = (Some("Twilio".into()), None);
    let replaced = engine.add_api_key("twilio", twilio).await.unwrap();
    assert_eq!(replaced.account.as_deref(), Some("Ada's account"), "checked with the kept SID");
    engine.test_connection("Twilio").await.unwrap();
}

/// An address given with the path the check adds (OpenAI's base URL is often written
/// with its `/v1`): the check is not found there, and the error says to leave it out.
#[tokio::test(flavor = "multi_thread")]
async fn an_address_that_repeats_the_checks_path_says_to_leave_it_out() {
    let (emulator, _setup, engine) = emulator_and_engine();
    let mut key = key_input(&emulator, "openai", &[("api_key", "sk-canary-path-good")]);
    key.base_url = Some(format!("{}/v1", emulator.service_url("openai")));
    let error = engine.add_api_key("openai", key).await.unwrap_err().to_string();
    assert!(error.contains("HTTP 404 (Not Found). The check adds /v1/models"), "{error}");
    assert!(error.contains("give the address without it (--base-url)"), "{error}");
    assert!(engine.connections().unwrap().is_empty());
}

/// The activity log records what has happened: when it cannot be written, what it
/// would record still stands and is said to have worked; a removed key leaves the
/// keychain, a saved one is listed, a replaced one is the one handed out.
#[tokio::test(flavor = "multi_thread")]
async fn an_activity_log_that_cannot_be_written_undoes_nothing() {
    let (emulator, setup, engine) = emulator_and_engine();
    let mut first = key_input(&emulator, "openai", &[("api_key", "sk-canary-log-first")]);
    first.check = false;
    engine.add_api_key("openai", first).await.unwrap();
    let db = rusqlite::Connection::open(setup.home.path().join("grantkeeper.sqlite3")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER no_events BEFORE INSERT ON events BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END;",
    )
    .unwrap();

    let mut second = key_input(&emulator, "anthropic", &[("api_key", "sk-ant-canary-log-second")]);
    second.check = false;
    engine.add_api_key("anthropic", second).await.expect("saved, though the log could not say so");
    let mut replacement = key_input(&emulator, "openai", &[("api_key", "sk-canary-log-replaced")]);
    (replacement.check, replacement.replace) = (false, Some("OpenAI".into()));
    engine.add_api_key("openai", replacement).await.expect("replaced");
    let (_, key) = engine.access_token("OpenAI", Duration::ZERO).await.unwrap();
    assert_eq!(key.expose(), "sk-canary-log-replaced");

    engine.remove_connection("OpenAI").await.expect("removed");
    assert_eq!(
        engine.connections().unwrap().iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Anthropic"]
    );
    let entries = secret_tool_keys(&setup.service);
    assert_eq!(entries.iter().filter(|k| k.starts_with("credential/")).count(), 1, "{entries:?}");
}

/// Scripts and AI clients' configurations keep a connection's id: no other connection
/// may be named so, and where one already is (named before this was refused), the id
/// still finds its own connection.
#[tokio::test(flavor = "multi_thread")]
async fn a_name_cannot_take_over_another_connections_id() {
    let (emulator, setup, engine) = emulator_and_engine();
    let mut first = key_input(&emulator, "openai", &[("api_key", "sk-canary-first-good")]);
    first.check = false;
    let openai = engine.add_api_key("openai", first).await.unwrap();
    let mut second = key_input(&emulator, "anthropic", &[("api_key", "sk-ant-canary-good")]);
    (second.check, second.name) = (false, Some(openai.id.to_uppercase()));
    let error = engine.add_api_key("anthropic", second).await.unwrap_err();
    assert_eq!(error.field(), Some("name"));
    assert!(error.to_string().contains("is the id of “OpenAI”"), "{error}");

    let mut second = key_input(&emulator, "anthropic", &[("api_key", "sk-ant-canary-good")]);
    second.check = false;
    engine.add_api_key("anthropic", second).await.unwrap();
    let error = engine.rename_connection("Anthropic", &openai.id).unwrap_err();
    assert!(error.to_string().contains("is the id of “OpenAI”"), "{error}");

    let db = rusqlite::Connection::open(setup.home.path().join("grantkeeper.sqlite3")).unwrap();
    db.execute("UPDATE connections SET name = ?1 WHERE name = 'Anthropic'", [&openai.id]).unwrap();
    assert_eq!(engine.connection(&openai.id).unwrap().name, "OpenAI");
    let (_, key) = engine.access_token(&openai.id, Duration::ZERO).await.unwrap();
    assert_eq!(key.expose(), "sk-canary-first-good");
}

/// A restricted key (Stripe's `rk_`, an OpenAI project key with limited permissions)
/// is valid but may not read the check's endpoint: HTTP 403 saves it and tests it as
/// working with limited permissions, where HTTP 401 refuses it.
#[tokio::test(flavor = "multi_thread")]
async fn a_restricted_key_is_valid_with_limited_permissions() {
    let (emulator, setup, engine) = emulator_and_engine();
    let key = "rk_test_canary-stripe-restricted";
    let stripe =
        engine.add_api_key("stripe", key_input(&emulator, "stripe", &[("api_key", key)])).await.unwrap();
    assert_eq!(stripe.status, ConnectionStatus::Active);
    assert_eq!(stripe.account.as_deref(), Some("key •••• cted"));
    assert_eq!(engine.access_token("Stripe", Duration::ZERO).await.unwrap().1.expose(), key);

    let result = engine.test_connection("Stripe").await.unwrap();
    assert_eq!((result.limited, result.account), (Some(403), None));
    assert_eq!(engine.connection("Stripe").unwrap().status, ConnectionStatus::Active);

    // Deleted at the service: 401, so it needs a new key.
    emulator.reject_key(key).await;
    let error = engine.test_connection("Stripe").await.unwrap_err();
    assert!(matches!(error, Error::KeyRefused { .. }), "{error}");
    assert_eq!(engine.connection("Stripe").unwrap().status, ConnectionStatus::Reauthorize);
    assert_eq!(secret_tool_keys(&setup.service).iter().filter(|k| k.starts_with("credential/")).count(), 1);
}

/// A key that replaces another while its connection is removed (the service still
/// checking it) ends as that connection not found, by its name; nothing is kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_replaced_while_its_connection_is_removed_is_not_found() {
    let (emulator, setup, engine) = emulator_and_engine();
    let first = key_input(&emulator, "openai", &[("api_key", "sk-canary-first-good")]);
    engine.add_api_key("openai", first).await.unwrap();
    emulator.delay_next_identity_request(1500).await;
    let mut second = key_input(&emulator, "openai", &[("api_key", "sk-canary-second-good")]);
    second.replace = Some("OpenAI".into());
    let replacing = tokio::spawn({
        let engine = engine.clone();
        async move { engine.add_api_key("openai", second).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    engine.remove_connection("OpenAI").await.unwrap();

    let error = replacing.await.unwrap().unwrap_err();
    assert!(matches!(&error, Error::NotFound { what: "connection", key } if key == "OpenAI"), "{error:?}");
    assert!(engine.connections().unwrap().is_empty());
    assert!(secret_tool_keys(&setup.service).iter().all(|key| !key.starts_with("credential/")));
}

#[tokio::test(flavor = "multi_thread")]
async fn test_connection_uses_the_integration_check_and_reports_refusals() {
    let (emulator, _setup, engine) = engine_using_emulator("github", true).await;
    engine.connect("github", ConnectOptions::default()).await.unwrap().outcome.await.unwrap().unwrap();

    // The check follows the provider app's identity endpoint (a GitHub Enterprise site).
    let result = engine.test_connection("GitHub").await.unwrap();
    assert_eq!(result.account.as_deref(), Some("ada"));
    assert!(result.url.ends_with("/github/identity"), "{result:?}");

    // Access withdrawn at GitHub; its tokens cannot be refreshed, so it needs the person.
    emulator.revoke("github", "ada").await;
    let error = engine.test_connection("GitHub").await.unwrap_err();
    assert!(matches!(error, Error::NeedsReauthorization { .. }), "{error}");
    assert!(error.to_string().contains("HTTP 401"), "{error}");
    assert_eq!(engine.connection("GitHub").unwrap().status, ConnectionStatus::Reauthorize);
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_that_never_expire_are_checked_by_the_scheduler() {
    let (emulator, _setup, engine) = engine_using_emulator("github", true).await;
    engine.connect("github", ConnectOptions::default()).await.unwrap().outcome.await.unwrap().unwrap();
    engine
        .add_api_key("openai", key_input(&emulator, "openai", &[("api_key", "sk-canary-sched-good")]))
        .await
        .unwrap();

    // Both withdrawn at their services while nobody uses them.
    emulator.revoke("github", "ada").await;
    emulator.reject_key("sk-canary-sched-good").await;

    // The app's start checks them soon; the scheduler finds out without any use.
    engine.repair().await.unwrap();
    let scheduler = tokio::spawn(engine.clone().run_scheduler());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let statuses: Vec<ConnectionStatus> =
            engine.connections().unwrap().iter().map(|c| c.status).collect();
        if statuses.iter().all(|s| *s == ConnectionStatus::Reauthorize) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {statuses:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    scheduler.abort();
    let reasons: Vec<String> =
        engine.connections().unwrap().into_iter().filter_map(|c| c.status_reason).collect();
    assert!(reasons.iter().any(|r| r.contains("no longer accepts its access token")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("rejected the key")), "{reasons:?}");
}

/// A check that cannot reach the service backs off as a refresh does (10–20 s, then
/// 20–40 s, and so on), rather than asking again every 10–20 s while it is down.
#[tokio::test(flavor = "multi_thread")]
async fn checks_that_cannot_reach_the_service_back_off() {
    let (emulator, setup, engine) = engine_using_emulator("github", true).await;
    engine.connect("github", ConnectOptions::default()).await.unwrap().outcome.await.unwrap().unwrap();
    emulator.identity_down(true).await;
    let checks = || async {
        emulator
            .log()
            .await
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/identity")))
            .count()
    };
    let before = checks().await;
    let due = || {
        let db = rusqlite::Connection::open(setup.home.path().join("grantkeeper.sqlite3")).unwrap();
        let due: String =
            db.query_row("SELECT refresh_due_at FROM credentials", [], |row| row.get(0)).unwrap();
        grantkeeper_engine::Timestamp::parse(&due).unwrap()
    };

    engine.repair().await.unwrap();
    let scheduler = tokio::spawn(engine.clone().run_scheduler());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while checks().await < before + 2 {
        assert!(tokio::time::Instant::now() < deadline, "no second check");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second_failed = grantkeeper_engine::Timestamp::now();
    while due() <= second_failed {
        assert!(tokio::time::Instant::now() < deadline, "the next check was never set");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scheduler.abort();
    let wait = due() - second_failed;
    assert!(wait >= time::Duration::seconds(19), "the second retry waits 20–40 s, not {wait}");
    assert_eq!(
        engine.connection("GitHub").unwrap().status,
        ConnectionStatus::Active,
        "a check's failure is not the connection's"
    );
}
