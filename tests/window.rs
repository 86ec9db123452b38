//! The real app window under Xvfb, driven through tauri-driver + WebKitWebDriver,
//! against the real OpenID provider and the Secret Service keyring.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use grantkeeper_test_support::{
    browser_command, repo_root, require_session, secret_tool_keys, unique_keychain_service, BrowserMode,
    NotificationServer, OidcProvider, TrayHost,
};

const WAIT: Duration = Duration::from_secs(20);

/// One app at a time: the apps of tests running side by side would share the session
/// bus's one tray host and one notification server.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// tauri-driver (and the WebKitWebDriver behind it) for one app configuration.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(home: &Path, service: &str, browser: BrowserMode, login: &str) -> Self {
        let (port, native_port) = (free_port(), free_port());
        let child = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("GRANTKEEPER_HOME", home)
            // "Start at login" writes its autostart entry here, not in the real profile.
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("GRANTKEEPER_KEYCHAIN_SERVICE", service)
            .env("GRANTKEEPER_BROWSER", browser_command(browser, login))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tauri-driver is installed (cargo install tauri-driver --version '^2')");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }

    /// Launches the app and connects to its window.
    async fn launch(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": env!("CARGO_BIN_EXE_grantkeeper-app") }),
        );
        let mut last_error = None;
        for _ in 0..20 {
            match ClientBuilder::native()
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(client) => return client,
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("could not start the app through tauri-driver: {last_error:?}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn by_test_id(id: &str) -> String {
    format!("[data-testid='{id}']")
}

/// The text of the element with this test id, or None while it is not on screen.
/// Polls with a script rather than failing `find`s: a "no such element" answer through
/// tauri-driver can leave fantoccini's connection hanging.
async fn text_of(client: &Client, id: &str) -> Option<String> {
    let script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;";
    let value = client.execute(script, vec![serde_json::json!(by_test_id(id))]).await.unwrap();
    value.as_str().map(str::to_owned)
}

/// Waits until the element's text satisfies `check`, then returns the text.
async fn wait_for_text(client: &Client, id: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = text_of(client, id).await;
        if let Some(text) = text.as_deref().filter(|t| check(t)) {
            return text.to_owned();
        }
        assert!(tokio::time::Instant::now() < deadline, "[data-testid={id}] shows {text:?}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn find(client: &Client, id: &str) -> Element {
    wait_for_text(client, id, |_| true).await;
    client.find(Locator::Css(&by_test_id(id))).await.unwrap()
}

async fn type_into(client: &Client, id: &str, text: &str) {
    let input = find(client, id).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Is the tray showing this icon of ours (compared pixel by pixel with ImageMagick)?
fn tray_shows(tray: &TrayHost, icon: &str) -> bool {
    let compared = Command::new("compare")
        .args(["-metric", "AE"])
        .arg(tray.icon_file())
        .arg(repo_root().join("icons").join(icon))
        .arg("null:")
        .output()
        .expect("ImageMagick's compare");
    compared.status.success()
}

/// The labels of the tray menu, as a panel shows them.
fn tray_labels(tray: &TrayHost) -> Vec<String> {
    tray.menu().into_iter().map(|entry| entry.label).collect()
}

/// Waits until the element with this test id has keyboard focus.
async fn wait_for_focus(client: &Client, id: &str) {
    let script = "return document.activeElement && document.activeElement.dataset.testid || null;";
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let focused = client.execute(script, vec![]).await.unwrap();
        if focused.as_str() == Some(id) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{id} never got the focus ({focused})");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn screenshot(client: &Client, name: &str) -> PathBuf {
    // The frame after a DOM change can lag behind.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let dir = repo_root().join("tests/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
    path
}

async fn add_provider(client: &Client, issuer: &str) {
    add_provider_named(client, "Local OP", issuer).await;
}

async fn add_provider_named(client: &Client, name: &str, issuer: &str) {
    find(client, "nav-providers").await.click().await.unwrap();
    type_into(client, "provider-name", name).await;
    find(client, "provider-mode-issuer").await.click().await.unwrap();
    type_into(client, "provider-issuer", issuer).await;
    type_into(client, "provider-client-id", "grantkeeper-test").await;
    type_into(client, "provider-scopes", "openid email offline_access").await;
    find(client, "provider-save").await.click().await.unwrap();
    find(client, "provider-row").await;
}

#[tokio::test]
async fn connect_in_the_window_survives_a_restart_and_removes_cleanly() {
    let _one_app = ONE_APP_AT_A_TIME.lock().await;
    require_session();
    let op = OidcProvider::start();
    let home = tempfile::tempdir().unwrap();
    let service = unique_keychain_service();
    let driver = Driver::start(home.path(), &service, BrowserMode::Consent, "ada");
    // The desktop's side, before the app starts: a panel and a notification server.
    let tray = TrayHost::start();
    let notifications = NotificationServer::start();

    let client = driver.launch().await;
    find(&client, "empty-state").await;
    screenshot(&client, "first-run").await;
    add_provider(&client, &op.issuer).await;
    screenshot(&client, "providers").await;

    find(&client, "provider-connect").await.click().await.unwrap();
    type_into(&client, "connect-name", "Work mail").await;
    find(&client, "connect-start").await.click().await.unwrap();

    // The stand-in browser consents; the window updates from the engine's event.
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    let account = wait_for_text(&client, "connection-account", |_| true).await;
    assert!(account.contains("ada@example.test"), "{account}");
    let scopes = wait_for_text(&client, "connection-scopes", |_| true).await;
    assert!(scopes.contains("offline_access"), "{scopes}");
    let row = wait_for_text(&client, "connection-row", |_| true).await;
    assert!(row.contains("Work mail"), "{row}");
    screenshot(&client, "connections").await;
    assert_eq!(tray_labels(&tray), ["Open Grantkeeper", "Quit"]);
    assert!(tray_shows(&tray, "tray.png"), "the all-fine look");

    // Refresh now goes to the provider; a revoked grant shows Reauthorize, and
    // Reconnect brings the same connection back.
    find(&client, "connection-refresh").await.click().await.unwrap();
    wait_for_text(&client, "connection-row", |t| t.contains("Tokens refreshed")).await;
    assert_eq!(op.stats().await.token_requests.get("refresh_token"), Some(&1));
    assert!(op.revoke_grants("ada").await >= 1);
    find(&client, "connection-refresh").await.click().await.unwrap();
    wait_for_text(&client, "connection-status", |t| t == "Reauthorize").await;
    screenshot(&client, "reauthorize").await;
    let seen = notifications.wait_for("Reconnect Work mail");
    let about_it: Vec<_> = seen.iter().filter(|n| n.summary == "Reconnect Work mail").collect();
    assert_eq!(about_it.len(), 1, "one notification for the transition: {seen:?}");
    assert!(about_it[0].body.contains("no longer accepts"), "{seen:?}");
    // Clicking it opens the window on that connection, Reconnect focused.
    find(&client, "nav-activity").await.click().await.unwrap();
    notifications.click("Reconnect Work mail");
    wait_for_focus(&client, "connection-reconnect").await;
    // The tray changes its look and lists the connection; its menu entry opens the
    // window on that connection with Reconnect focused, from any page.
    tray.wait_for_menu(|menu| menu.iter().any(|e| e.label == "Reconnect Work mail (Local OP)"));
    assert!(tray_shows(&tray, "tray-attention.png"), "the needs-attention look");
    find(&client, "nav-activity").await.click().await.unwrap();
    tray.click("Reconnect Work mail");
    wait_for_focus(&client, "connection-reconnect").await;
    find(&client, "connection-reconnect").await.click().await.unwrap();
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    tray.wait_for_menu(|menu| !menu.iter().any(|e| e.label.starts_with("Reconnect")));
    assert!(tray_shows(&tray, "tray.png"), "back to the all-fine look");
    let rows: serde_json::Value = client
        .execute("return [...document.querySelectorAll('[data-testid=connection-row]')].map(r => r.dataset.connectionId)", vec![])
        .await
        .unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "Reconnect kept the one connection: {rows}");

    // The activity log tells the story in plain words.
    find(&client, "nav-activity").await.click().await.unwrap();
    let newest = wait_for_text(&client, "activity-row", |t| t.contains("Reconnected")).await;
    assert!(newest.contains("Work mail"), "{newest}");
    screenshot(&client, "activity").await;
    find(&client, "nav-connections").await.click().await.unwrap();
    // Closing the window only hides it; Quit ends the app.
    // The app is gone before the click's answer comes back.
    let _ = find(&client, "quit").await.click().await;
    drop(client);
    wait_until_quit(home.path());

    // Start again: still there, still Active.
    let client = driver.launch().await;
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    // Only one app per data directory: a second launch shows the first and exits.
    let second = Command::new(env!("CARGO_BIN_EXE_grantkeeper-app"))
        .env("GRANTKEEPER_HOME", home.path())
        .env("GRANTKEEPER_KEYCHAIN_SERVICE", &service)
        .output()
        .unwrap();
    assert!(second.status.success(), "{second:?}");
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"), "{second:?}");
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    assert!(secret_tool_keys(&service).iter().any(|k| k.starts_with("credential/")));

    find(&client, "connection-remove").await.click().await.unwrap();
    find(&client, "confirm-remove").await.click().await.unwrap();
    find(&client, "empty-state").await;
    assert_eq!(text_of(&client, "connection-row").await, None);
    // The row goes as soon as SQLite forgets it; the keychain entry right after.
    let deadline = tokio::time::Instant::now() + WAIT;
    while secret_tool_keys(&service).iter().any(|k| k.starts_with("credential/")) {
        assert!(tokio::time::Instant::now() < deadline, "the tokens stayed in the keychain");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn declined_consent_says_so_in_the_window() {
    let _one_app = ONE_APP_AT_A_TIME.lock().await;
    require_session();
    let op = OidcProvider::start();
    let home = tempfile::tempdir().unwrap();
    let service = unique_keychain_service();
    let driver = Driver::start(home.path(), &service, BrowserMode::Deny, "ada");
    let notifications = NotificationServer::start();

    let client = driver.launch().await;
    // Markup in a name the person typed (and in the error that quotes it) is text.
    let markup = r#"<img src="x" onerror="document.title='pwned'">Local OP"#;
    add_provider_named(&client, markup, &op.issuer).await;
    find(&client, "provider-connect").await.click().await.unwrap();
    find(&client, "connect-start").await.click().await.unwrap();
    let message = wait_for_text(&client, "flow-message", |t| t.contains("declined")).await;
    assert!(message.contains("You declined access"), "{message}");
    assert!(message.contains(markup), "shown as typed: {message}");
    let injected = client
        .execute("return [document.querySelectorAll('img[src=\"x\"]').length, document.title]", vec![])
        .await
        .unwrap();
    assert_eq!(injected, serde_json::json!([0, "Grantkeeper"]), "no element was made from the markup");
    screenshot(&client, "declined").await;

    // The webview may call Grantkeeper's own commands only: a plugin command is stopped
    // by the isolation frame (it never answers) and would be refused by the capability.
    let refused = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             setTimeout(() => done('no answer'), 3000);
             window.__TAURI_INTERNALS__.invoke('plugin:notification|notify', { options: { title: 'Injected' } })
               .then(() => done('allowed'), (e) => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(refused, "allowed");
    assert!(notifications.shown().is_empty(), "no notification was sent: {:?}", notifications.shown());
    find(&client, "nav-connections").await.click().await.unwrap();
    find(&client, "empty-state").await;
    assert!(secret_tool_keys(&service).is_empty());
    client.close().await.unwrap();
}

/// Waits until the app has let go of its data directory (its single-instance lock).
fn wait_until_quit(home: &Path) {
    let lock = std::fs::File::options().write(true).open(home.join("app.lock")).unwrap();
    for _ in 0..100 {
        if lock.try_lock().is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the app did not quit");
}

/// The first file that shows up in `dir`.
async fn wait_for_file(dir: &Path) -> PathBuf {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(entry) =
            std::fs::read_dir(dir).ok().and_then(|mut entries| entries.next()).and_then(Result::ok)
        {
            return entry.path();
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing appeared in {}", dir.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the first element matching `css` once it is on screen.
async fn click_css(client: &Client, css: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let script = "return document.querySelector(arguments[0]) !== null;";
    while client.execute(script, vec![serde_json::json!(css)]).await.unwrap() != serde_json::json!(true) {
        assert!(tokio::time::Instant::now() < deadline, "{css} never showed");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn the_catalog_sets_up_a_provider_app_and_connects() {
    let _one_app = ONE_APP_AT_A_TIME.lock().await;
    require_session();
    // The real OpenID provider as a self-managed GitLab: the catalog's GitLab entry
    // with only its server address changed.
    let op = OidcProvider::start_with(&[("OIDC_PROFILE", "gitlab")]);
    let home = tempfile::tempdir().unwrap();
    let service = unique_keychain_service();
    let driver = Driver::start(home.path(), &service, BrowserMode::Consent, "ada");

    let client = driver.launch().await;
    find(&client, "empty-go-catalog").await.click().await.unwrap();
    find(&client, "catalog-search").await;
    screenshot(&client, "catalog").await;
    type_into(&client, "catalog-search", "gitlab").await;
    let shown: serde_json::Value = client
        .execute("return [...document.querySelectorAll('[data-testid=catalog-entry]')].map(e => e.dataset.integrationId)", vec![])
        .await
        .unwrap();
    assert_eq!(shown, serde_json::json!(["gitlab", "gitlab-git"]), "search narrows the catalog");

    click_css(&client, "[data-integration-id='gitlab'] [data-testid='catalog-setup']").await;
    let redirect = wait_for_text(&client, "provider-redirect-uri", |_| true).await;
    assert_eq!(redirect, "http://127.0.0.1/callback");
    let steps = wait_for_text(&client, "provider-setup-steps", |_| true).await;
    assert!(steps.contains("Redirect URI"), "{steps}");
    type_into(&client, "app-client-id", "grantkeeper-gitlab").await;
    type_into(&client, "app-site", &op.issuer).await;
    screenshot(&client, "catalog-setup").await;
    find(&client, "app-save").await.click().await.unwrap();

    // Saved: the Connect form follows, and the sign-in goes to the server that was set.
    find(&client, "connect-start").await.click().await.unwrap();
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    let account = wait_for_text(&client, "connection-account", |_| true).await;
    assert_eq!(account, "ada");
    find(&client, "connection-test").await.click().await.unwrap();
    let tested = wait_for_text(&client, "connection-tested", |_| true).await;
    assert!(tested.contains("answered for ada"), "{tested}");

    find(&client, "nav-providers").await.click().await.unwrap();
    let row = wait_for_text(&client, "provider-row", |t| t.contains("GitLab")).await;
    assert!(row.contains(&op.issuer) && row.contains("grantkeeper-gitlab"), "{row}");

    // Start at login: an XDG autostart entry that launches this app.
    let autostart = home.path().join("config/autostart");
    find(&client, "start-at-login").await.click().await.unwrap();
    let entry = wait_for_file(&autostart).await;
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.contains("[Desktop Entry]") && text.contains("Exec="), "{text}");
    find(&client, "start-at-login").await.click().await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while entry.exists() {
        assert!(tokio::time::Instant::now() < deadline, "the autostart entry stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.close().await.unwrap();
}
