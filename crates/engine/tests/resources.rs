//! Connecting by URL against the MCP reference SDK's servers (tests/mcp/): the SDK's
//! own example with its demo authorization server, and an MCP server from the SDK's
//! parts guarded by a real OpenID provider with refresh tokens and revocation. The
//! real keychain and SQLite file; the stand-in browser signs in.

mod common;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{named, Setup};
use grantkeeper_engine::api::ClientIdentity;
use grantkeeper_engine::oauth::Browser;
use grantkeeper_engine::resource::client_metadata_document;
use grantkeeper_engine::{Config, Connection, ConnectionStatus, Engine, ErrorCode};
use grantkeeper_test_support::mcp::{McpExample, McpGuarded, McpHostile};
use grantkeeper_test_support::{browser_command, BrowserMode};

async fn connect_url(engine: &Arc<Engine>, url: &str, name: &str) -> Connection {
    engine.connect_url(url, named(name)).await.unwrap().outcome.await.unwrap().unwrap()
}

async fn token(engine: &Engine, connection: &str) -> String {
    engine.access_token(connection, Duration::ZERO).await.unwrap().1.expose().to_owned()
}

/// The guarded MCP server, and an engine (its browser consents) with a connection to
/// it named "Guarded". The Setup holds the engine's data directory: keep it.
async fn connected_to_guarded() -> (McpGuarded, Setup, Arc<Engine>, Connection) {
    let server = McpGuarded::start();
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    let connection = connect_url(&engine, &server.url, "Guarded").await;
    (server, setup, engine, connection)
}

/// The HTTP status of an MCP `initialize` sent to `url` with `token`.
async fn initialize_status(url: &str, token: &str) -> u16 {
    let initialize = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": { "name": "resources-test", "version": "1" } }
    });
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .header("Accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_example_connects_by_url_and_its_registration_is_kept() {
    // Strict: the server takes only tokens issued for its own URL (RFC 8707).
    for strict in [false, true] {
        let server = McpExample::start(strict);
        let setup = Setup::new();
        let engine = setup.engine(BrowserMode::Consent);

        let plan = engine.plan_url(&server.url, &[]).await.unwrap();
        assert_eq!(plan.resource, server.url);
        assert_eq!(plan.authorization_server, server.auth_issuer);
        assert!(matches!(plan.identity, ClientIdentity::WillRegister { .. }), "{:?}", plan.identity);

        let first = connect_url(&engine, &server.url, "Example").await;
        assert_eq!(first.status, ConnectionStatus::Active);
        assert_eq!(first.resource.as_deref(), Some(server.url.as_str()));
        assert_eq!(
            initialize_status(&server.url, &token(&engine, "Example").await).await,
            200,
            "strict: {strict}"
        );

        // The registration is reused: a second connection and a reconnect register nothing.
        let ClientIdentity::Registered { client_id, .. } =
            engine.plan_url(&server.url, &[]).await.unwrap().identity
        else {
            panic!("the registration was not kept")
        };
        let second = connect_url(&engine, &server.url, "Again").await;
        let reconnected = engine.reconnect("Example").await.unwrap().outcome.await.unwrap().unwrap();
        assert_eq!(reconnected.id, first.id, "a reconnect keeps the connection's id");
        let ClientIdentity::Registered { client_id: still, .. } =
            engine.plan_url(&server.url, &[]).await.unwrap().identity
        else {
            panic!("the registration was dropped")
        };
        assert_eq!(still, client_id);
        assert_ne!(
            token(&engine, "Again").await,
            token(&engine, "Example").await,
            "one grant per connection"
        );

        engine.remove_connection(&second.id).await.unwrap();
        engine.remove_connection(&first.id).await.unwrap();
        assert!(engine.connections().unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_gets_one_refresh_and_a_revoked_grant_needs_a_sign_in() {
    let (server, _setup, engine, connection) = connected_to_guarded().await;
    assert_eq!(server.stats().await["registrations"], 1);
    let before = token(&engine, "Guarded").await;
    assert_eq!(initialize_status(&server.url, &before).await, 200);

    // The server no longer takes the access token: one refresh, bound to the resource.
    server.expire_access().await;
    assert_eq!(initialize_status(&server.url, &before).await, 401);
    let (_, after) = engine.token_refused("Guarded").await.unwrap();
    assert_ne!(after.expose(), before);
    assert_eq!(initialize_status(&server.url, after.expose()).await, 200);
    assert_eq!(server.stats().await["token_refresh"], 1);

    // Revoked at the server: the refresh is refused, and the person must sign in again.
    server.revoke_all().await;
    let refused = engine.token_refused("Guarded").await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NeedsReauthorization, "{refused}");
    assert_eq!(engine.connection("Guarded").unwrap().status, ConnectionStatus::Reauthorize);

    // Reconnect: the same connection, the same registration.
    let reconnected = engine.reconnect("Guarded").await.unwrap().outcome.await.unwrap().unwrap();
    assert_eq!(
        (reconnected.id.as_str(), reconnected.status),
        (connection.id.as_str(), ConnectionStatus::Active)
    );
    assert_eq!(server.stats().await["registrations"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_forgot_the_registration_gets_one_new_one() {
    let (server, _setup, engine, connection) = connected_to_guarded().await;

    server.forget_clients().await;
    server.expire_access().await;
    let refused = engine.token_refused("Guarded").await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NeedsReauthorization, "{refused}");
    let reason = engine.connection("Guarded").unwrap().status_reason.unwrap();
    assert!(reason.contains("registration"), "{reason}");

    let reconnected = engine.reconnect("Guarded").await.unwrap().outcome.await.unwrap().unwrap();
    assert_eq!((reconnected.id, reconnected.status), (connection.id, ConnectionStatus::Active));
    assert_eq!(server.stats().await["registrations"], 2, "exactly one new registration");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_asking_for_more_scopes_makes_the_connection_need_more_access() {
    let (_server, _setup, engine, connection) = connected_to_guarded().await;
    assert_eq!(connection.scopes, ["mcp:tools"], "the scopes its challenge named");

    let more = engine.needs_more_access("Guarded", &["mcp:tools".into(), "mcp:admin".into()]).unwrap();
    assert_eq!(
        (more.status, more.missing_scopes.clone()),
        (ConnectionStatus::NeedsMoreAccess, vec!["mcp:admin".into()])
    );
    let granted = engine.grant_access("Guarded").await.unwrap().outcome.await.unwrap().unwrap();
    assert_eq!(granted.id, connection.id);
    assert_eq!(granted.status, ConnectionStatus::Active);
    assert!(granted.scopes.contains(&"mcp:admin".to_owned()), "{:?}", granted.scopes);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_servers_are_refused_plainly_and_nothing_is_kept() {
    let hostile = McpHostile::start();
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    // (case, error code, what the message must say)
    let cases = [
        ("other-resource", ErrorCode::ResourceUnusable, "another resource"),
        ("issuer-mismatch", ErrorCode::ResourceUnusable, "names the issuer"),
        ("no-s256", ErrorCode::ResourceUnusable, "S256"),
        ("no-pkce-listed", ErrorCode::ResourceUnusable, "S256"),
        ("registration-refused", ErrorCode::RegistrationRefused, "grantkeeper providers add"),
        // Busy is not a refusal: try again later, not register an app by hand.
        ("registration-busy", ErrorCode::ProviderUnreachable, "HTTP 429"),
        ("no-registration", ErrorCode::RegistrationRefused, "grantkeeper providers add"),
        ("html", ErrorCode::ResourceUnusable, "not protected resource metadata"),
        ("endless-401", ErrorCode::ResourceUnusable, "HTTP 401"),
        ("redirect", ErrorCode::ResourceUnusable, "redirects elsewhere"),
        ("moved", ErrorCode::ResourceUnusable, "/moved/mcp/"),
        // There, but not answering now: try again later (exit 5), not fix the URL.
        ("busy", ErrorCode::ProviderUnreachable, "could not answer now (HTTP 503)"),
    ];
    for (case, code, says) in cases {
        let error = engine.connect_url(&hostile.url(case), named(case)).await.err().unwrap();
        assert_eq!(error.code(), code, "{case}: {error}");
        assert!(error.to_string().contains(says), "{case}: {error}");
        assert!(engine.plan_url(&hostile.url(case), &[]).await.is_err() || case.contains("registration"));
    }
    let plain = engine.connect_url("http://mcp.example.com/mcp", named("plain")).await.err().unwrap();
    assert_eq!(plain.field(), Some("url"));
    assert!(plain.to_string().contains("https"), "{plain}");

    assert!(engine.connections().unwrap().is_empty());
    assert!(engine.providers().unwrap().is_empty());
    // Nothing was sent on after a refusal: no registration where the metadata did not hold.
    let requests = hostile.requests().await;
    for case in ["other-resource", "issuer-mismatch", "no-s256", "html", "redirect"] {
        assert!(
            !requests
                .iter()
                .any(|path| path.starts_with(&format!("/{case}/")) && path.ends_with("/register")),
            "{case}: {requests:?}"
        );
    }
    // With no challenge naming the metadata, the well-known path is found and used.
    let found = engine.plan_url(&hostile.url("no-www-authenticate"), &[]).await.unwrap();
    assert_eq!(found.resource, hostile.url("no-www-authenticate"));
    let connected = connect_url(&engine, &hostile.url("no-www-authenticate"), "Fallback").await;
    assert_eq!(connected.status, ConnectionStatus::Active);
    let moved = engine.connect_url(&hostile.url("moved"), named("moved")).await.err().unwrap().to_string();
    assert!(
        moved.contains(&format!("Use the address it redirects to: {}/moved/mcp/", hostile.base)),
        "{moved}"
    );
}

/// Metadata only at the server's root, naming its origin (RFC 9728 §3.1 for the origin;
/// Cloudflare's OAuth provider serves it so): it covers the URL asked for, requests go
/// to that URL, and the authorization server is sent the origin as the metadata writes it.
#[tokio::test(flavor = "multi_thread")]
async fn a_root_document_naming_the_origin_serves_the_url_below_it() {
    let hostile = McpHostile::start();
    let setup = Setup::new();
    let engine = setup.engine(BrowserMode::Consent);
    let connected = connect_url(&engine, &hostile.url("root-only"), "Root").await;
    assert_eq!(connected.status, ConnectionStatus::Active);
    assert_eq!(connected.resource.as_deref(), Some(hostile.url("root-only").as_str()));
    let sent = hostile.resources().await;
    assert_eq!(sent, [Some(hostile.base.clone()), Some(hostile.base.clone())], "authorize, then token");

    // A document naming another issuer is passed over for one that names this one.
    let elsewhere = connect_url(&engine, &hostile.url("openid-elsewhere"), "Elsewhere").await;
    assert_eq!(elsewhere.status, ConnectionStatus::Active);
}

/// A client ID metadata document published on a local web site (Python's own
/// `http.server`), as a distribution would publish it.
struct PublishedDocument {
    url: url::Url,
    server: Child,
    _site: tempfile::TempDir,
}

impl PublishedDocument {
    fn publish() -> Self {
        let site = tempfile::tempdir().unwrap();
        let mut server = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
            .arg(site.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 serves the document");
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let mut line = String::new();
        std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.split(" port ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap();
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/grantkeeper/client.json")).unwrap();
        std::fs::create_dir(site.path().join("grantkeeper")).unwrap();
        let document = serde_json::to_vec_pretty(&client_metadata_document(&url)).unwrap();
        std::fs::write(site.path().join("grantkeeper/client.json"), document).unwrap();
        PublishedDocument { url, server, _site: site }
    }
}

impl Drop for PublishedDocument {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_id_metadata_document_takes_the_place_of_a_registration() {
    let server = McpGuarded::start_with(&[("MCP_CLIENT_METADATA_DOCUMENTS", "1")]);
    let document = PublishedDocument::publish();
    let setup = Setup::new();
    let browser = Browser::Commands(vec![browser_command(BrowserMode::Consent, "ada")]);
    let engine =
        setup.open(Config { client_metadata_document: Some(document.url.clone()), ..setup.config(browser) });

    let expected = ClientIdentity::MetadataDocument { url: document.url.to_string() };
    let plan = engine.plan_url(&server.url, &[]).await.unwrap().identity;
    assert_eq!(format!("{plan:?}"), format!("{expected:?}"));
    let connection = connect_url(&engine, &server.url, "Documented").await;
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert_eq!(initialize_status(&server.url, &token(&engine, "Documented").await).await, 200);
    // A refresh and a second sign-in, all with the document's URL as the client ID.
    server.expire_access().await;
    engine.token_refused("Documented").await.unwrap();
    connect_url(&engine, &server.url, "Again").await;
    let plan = engine.plan_url(&server.url, &[]).await.unwrap().identity;
    assert_eq!(format!("{plan:?}"), format!("{expected:?}"));

    let stats = server.stats().await;
    assert_eq!(stats["registrations"], 0, "nothing registered: {stats}");
    assert_eq!(
        (stats["token_code"].as_u64(), stats["token_refresh"].as_u64()),
        (Some(2), Some(1)),
        "{stats}"
    );
    assert!(stats["documents_fetched"].as_u64() >= Some(1), "the server read the document: {stats}");

    // Without the document configured, the same server is registered with as before.
    let other = Setup::new();
    let plan = other.engine(BrowserMode::Consent).plan_url(&server.url, &[]).await.unwrap().identity;
    assert!(matches!(plan, ClientIdentity::WillRegister { .. }), "{plan:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_an_organisation_supplies_for_the_server_comes_before_registering() {
    let server = McpGuarded::start();
    // The organisation registers its app once (any RFC 7591 client would do) and hands
    // out its client ID in the supplied file.
    let registration = server
        .register(serde_json::json!({
            "client_name": "Example Org desktop", "application_type": "native",
            "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
        }))
        .await;
    let client_id = registration["client_id"].as_str().unwrap().to_owned();
    let setup = Setup::new();
    let file = setup.home.path().join("provider-apps.toml");
    std::fs::write(&file, format!("[\"{}\"]\nclient_id = \"{client_id}\"\n", server.issuer)).unwrap();
    let browser = Browser::Commands(vec![browser_command(BrowserMode::Consent, "ada")]);
    let engine = setup.open(Config { supplied_provider_apps: vec![file.clone()], ..setup.config(browser) });

    let plan = engine.plan_url(&server.url, &[]).await.unwrap().identity;
    let expected = ClientIdentity::Supplied { client_id, file: file.display().to_string() };
    assert_eq!(format!("{plan:?}"), format!("{expected:?}"));
    connect_url(&engine, &server.url, "Org").await;
    server.expire_access().await;
    let (_, refreshed) = engine.token_refused("Org").await.unwrap();
    assert_eq!(initialize_status(&server.url, refreshed.expose()).await, 200);
    let stats = server.stats().await;
    assert_eq!(stats["registrations"], 1, "only the organisation's: {stats}");
    assert_eq!(stats["token_refresh"], 1, "{stats}");
}
