//! The real app window under Xvfb, driven through tauri-driver + WebKitWebDriver,
//! against the real OpenID provider and the Secret Service keyring.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{elements::Element, key::Key, Client, ClientBuilder, Locator};
use grantkeeper_test_support::mcp::McpExample;
use grantkeeper_test_support::{
    approve_elsewhere, browser_command, repo_root, require_session, secret_tool_keys,
    unique_keychain_service, BrowserMode, NotificationServer, OidcProvider, TrayHost,
};

const WAIT: Duration = Duration::from_secs(20);

/// One app at a time: the apps of tests running side by side would share the session
/// bus's one tray host and one notification server.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What each test's app stands on: its turn as the one app, and a data directory and a
/// keychain service of its own.
struct Setup {
    home: tempfile::TempDir,
    service: String,
    /// Last, so it is let go only after the data directory is removed.
    _one_app: tokio::sync::MutexGuard<'static, ()>,
}

impl Setup {
    async fn new() -> Self {
        let one_app = ONE_APP_AT_A_TIME.lock().await;
        require_session();
        Setup { home: tempfile::tempdir().unwrap(), service: unique_keychain_service(), _one_app: one_app }
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    /// tauri-driver for an app on this data, with ada signing in to the stand-in browser.
    fn driver(&self, browser: BrowserMode) -> Driver {
        self.driver_with(browser, &[])
    }

    fn driver_with(&self, browser: BrowserMode, env: &[(&str, &str)]) -> Driver {
        Driver::start(self.home(), &self.service, browser, "ada", env)
    }
}

/// tauri-driver (and the WebKitWebDriver behind it) for one app configuration.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// `env` is extra environment for the app: tauri-driver's environment passes through
    /// WebKitWebDriver to the app it launches.
    fn start(home: &Path, service: &str, browser: BrowserMode, login: &str, env: &[(&str, &str)]) -> Self {
        let (port, native_port) = (free_port(), free_port());
        let child = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .envs(env.iter().copied())
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

/// Asks `check` again every `every` until it answers Ok, and returns that answer; when
/// `within` has passed, its last Err is the test's failure.
async fn poll<T>(within: Duration, every: Duration, mut check: impl AsyncFnMut() -> Result<T, String>) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match check().await {
            Ok(answer) => return answer,
            Err(failure) => assert!(tokio::time::Instant::now() < deadline, "{failure}"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Waits until the element's text satisfies `check`, then returns the text.
async fn wait_for_text(client: &Client, id: &str, check: impl Fn(&str) -> bool) -> String {
    poll(WAIT, Duration::from_millis(150), async || match text_of(client, id).await {
        Some(text) if check(&text) => Ok(text),
        text => Err(format!("[data-testid={id}] shows {text:?}")),
    })
    .await
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
    // The icon and the menu are separate signals to the panel; the icon may come second.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let compared = Command::new("compare")
            .args(["-metric", "AE"])
            .arg(tray.icon_file())
            .arg(repo_root().join("icons").join(icon))
            .arg("null:")
            .output()
            .expect("ImageMagick's compare");
        if compared.status.success() || std::time::Instant::now() > deadline {
            return compared.status.success();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The labels of the tray menu, as a panel shows them.
fn tray_labels(tray: &TrayHost) -> Vec<String> {
    tray.menu().into_iter().map(|entry| entry.label).collect()
}

/// Waits until the element with this test id has keyboard focus.
async fn wait_for_focus(client: &Client, id: &str) {
    let script = "return document.activeElement && document.activeElement.dataset.testid || null;";
    poll(WAIT, Duration::from_millis(150), async || {
        let focused = client.execute(script, vec![]).await.unwrap();
        if focused.as_str() == Some(id) {
            return Ok(());
        }
        Err(format!("{id} never got the focus ({focused})"))
    })
    .await;
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

/// Connects the provider app on screen under `name` (the stand-in browser consents)
/// and waits until the window shows the connection Active.
async fn connect(client: &Client, name: &str) {
    find(client, "provider-connect").await.click().await.unwrap();
    type_into(client, "connect-name", name).await;
    find(client, "connect-start").await.click().await.unwrap();
    // The window updates from the engine's event.
    wait_for_text(client, "connection-status", |t| t == "Active").await;
}

#[tokio::test]
async fn connect_in_the_window_survives_a_restart_and_removes_cleanly() {
    let setup = Setup::new().await;
    let op = OidcProvider::start();
    let driver = setup.driver(BrowserMode::Consent);
    // The desktop's side, before the app starts: a panel and a notification server.
    let tray = TrayHost::start();
    let notifications = NotificationServer::start();

    let client = driver.launch().await;
    find(&client, "empty-state").await;
    screenshot(&client, "first-run").await;
    add_provider(&client, &op.issuer).await;
    screenshot(&client, "providers").await;
    connect(&client, "Work mail").await;
    expect_the_new_connection(&client, &tray).await;
    refresh_in_the_detail_view_until_reauthorize(&client, &op).await;
    notified_of_reauthorize(&client, &notifications).await;
    the_tray_points_to_reconnect(&client, &tray).await;
    reconnect_keeps_the_one_connection(&client, &tray).await;
    // Active again: the notification asking to reconnect it is withdrawn.
    notifications.wait_until_withdrawn("Reconnect Work mail");

    // The activity log tells the story in plain words.
    find(&client, "nav-activity").await.click().await.unwrap();
    let newest = wait_for_text(&client, "activity-row", |t| t.contains("Reconnected")).await;
    assert!(newest.contains("Work mail"), "{newest}");
    screenshot(&client, "activity").await;
    find(&client, "nav-connections").await.click().await.unwrap();
    // Closing the window only hides it; Quit ends the app.
    quit(client, setup.home()).await;

    // Start again: still there, still Active.
    let client = driver.launch().await;
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    a_second_launch_shows_the_first(&setup);
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    assert!(secret_tool_keys(&setup.service).iter().any(|k| k.starts_with("credential/")));
    remove_clears_the_keychain(&client, &setup.service).await;
    client.close().await.unwrap();
}

/// The row of the connection just made, and the tray's all-fine look.
async fn expect_the_new_connection(client: &Client, tray: &TrayHost) {
    let account = wait_for_text(client, "connection-account", |_| true).await;
    assert!(account.contains("ada@example.test"), "{account}");
    let scopes = wait_for_text(client, "connection-scopes", |_| true).await;
    assert!(scopes.contains("offline_access"), "{scopes}");
    let row = wait_for_text(client, "connection-row", |_| true).await;
    assert!(row.contains("Work mail"), "{row}");
    screenshot(client, "connections").await;
    assert_eq!(tray_labels(tray), ["Open Grantkeeper", "Quit"]);
    assert!(tray_shows(tray, "tray.png"), "the all-fine look");
}

/// The detail view: what it may do in plain words, its sign-in, its own activity.
/// Refresh now goes to the provider; after the provider revokes the grant it shows
/// Reauthorize. Escape then returns to the list, focus on the row it came from.
async fn refresh_in_the_detail_view_until_reauthorize(client: &Client, op: &OidcProvider) {
    find(client, "connection-open").await.click().await.unwrap();
    wait_for_focus(client, "connection-detail-title").await;
    let scopes = wait_for_text(client, "detail-scopes", |_| true).await;
    assert!(scopes.contains("Confirm who you are") && scopes.contains("offline_access"), "{scopes}");
    let removal = wait_for_text(client, "detail-removal", |_| true).await;
    assert!(removal.contains("asks Local OP to revoke"), "{removal}");
    wait_for_text(client, "activity-row", |t| t.contains("Connected")).await;
    find(client, "connection-refresh").await.click().await.unwrap();
    wait_for_text(client, "activity-row", |t| t.contains("Tokens refreshed")).await;
    assert_eq!(op.stats().await.token_requests.get("refresh_token"), Some(&1));
    screenshot(client, "detail").await;
    assert!(op.revoke_grants("ada").await >= 1);
    find(client, "connection-refresh").await.click().await.unwrap();
    wait_for_text(client, "connection-status", |t| t == "Reauthorize").await;
    wait_for_text(client, "activity-row", |t| t.contains("Needs reauthorization")).await;
    screenshot(client, "detail-reauthorize").await;
    press(client, &Key::Escape).await;
    wait_for_focus(client, "connection-open").await;
    wait_for_text(client, "connection-row", |t| t.contains("Reauthorize")).await;
    screenshot(client, "reauthorize").await;
}

/// One notification for the transition; clicking it opens the window on that
/// connection, Reconnect focused.
async fn notified_of_reauthorize(client: &Client, notifications: &NotificationServer) {
    let seen = notifications.wait_for("Reconnect Work mail");
    let about_it: Vec<_> = seen.iter().filter(|n| n.summary == "Reconnect Work mail").collect();
    assert_eq!(about_it.len(), 1, "one notification for the transition: {seen:?}");
    assert!(about_it[0].body.contains("no longer accepts"), "{seen:?}");
    assert!(!about_it[0].closed, "shown until the connection is Active again: {seen:?}");
    find(client, "nav-activity").await.click().await.unwrap();
    notifications.click("Reconnect Work mail");
    wait_for_focus(client, "connection-reconnect").await;
}

/// The tray changes its look and lists the connection; its menu entry opens the
/// window on that connection with Reconnect focused, from any page, and the row is
/// pointed at in the accent colour.
async fn the_tray_points_to_reconnect(client: &Client, tray: &TrayHost) {
    tray.wait_for_menu(|menu| menu.iter().any(|e| e.label == "Reconnect Work mail (Local OP)"));
    assert!(tray_shows(tray, "tray-attention.png"), "the needs-attention look");
    find(client, "nav-activity").await.click().await.unwrap();
    tray.click("Reconnect Work mail");
    wait_for_focus(client, "connection-reconnect").await;
    expect_accent_highlight(client).await;
}

/// The row is pointed at in the accent colour, never in Active's green (the border
/// eases in over 0.6 s; the highlight stays 4 s).
async fn expect_accent_highlight(client: &Client) {
    let script = "
        const row = document.querySelector('[data-testid=connection-row].highlighted');
        const probe = (v) => { const e = document.createElement('i'); e.style.color = `var(${v})`;
            document.body.append(e); const c = getComputedStyle(e).color; e.remove(); return c; };
        return [row && getComputedStyle(row).borderTopColor, probe('--accent'), probe('--ok')];";
    poll(Duration::from_secs(3), Duration::from_millis(100), async || {
        let colours = client.execute(script, vec![]).await.unwrap();
        assert_ne!(colours[0], colours[2], "the highlight is not Active's green: {colours}");
        if colours[0] == colours[1] {
            return Ok(());
        }
        Err(format!("highlight border, accent: {colours}"))
    })
    .await;
}

/// Reconnect brings the same connection back, and the tray its all-fine look.
async fn reconnect_keeps_the_one_connection(client: &Client, tray: &TrayHost) {
    find(client, "connection-reconnect").await.click().await.unwrap();
    wait_for_text(client, "connection-status", |t| t == "Active").await;
    tray.wait_for_menu(|menu| !menu.iter().any(|e| e.label.starts_with("Reconnect")));
    assert!(tray_shows(tray, "tray.png"), "back to the all-fine look");
    let rows: serde_json::Value = client
        .execute("return [...document.querySelectorAll('[data-testid=connection-row]')].map(r => r.dataset.connectionId)", vec![])
        .await
        .unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "Reconnect kept the one connection: {rows}");
}

/// Only one app per data directory: a second launch shows the first and exits.
fn a_second_launch_shows_the_first(setup: &Setup) {
    let second = Command::new(env!("CARGO_BIN_EXE_grantkeeper-app"))
        .env("GRANTKEEPER_HOME", setup.home())
        .env("GRANTKEEPER_KEYCHAIN_SERVICE", &setup.service)
        .output()
        .unwrap();
    assert!(second.status.success(), "{second:?}");
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"), "{second:?}");
}

/// A start that fails says why where the person looks, not only on stderr; here the
/// database is a newer version's, which is left as it was. The reason names a folder
/// whose name the notification server, which reads markup, would take for markup.
#[tokio::test]
async fn a_start_that_fails_says_why_in_a_notification() {
    use std::os::unix::fs::DirBuilderExt;

    let setup = Setup::new().await;
    let notifications = NotificationServer::start();
    let home = setup.home().join("R&D <i>notes</i>");
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&home).unwrap();
    let database = home.join("grantkeeper.sqlite3");
    let newer = || rusqlite::Connection::open(&database).unwrap();
    newer().pragma_update(None, "user_version", 999).unwrap();
    let app = Command::new(env!("CARGO_BIN_EXE_grantkeeper-app"))
        .env("GRANTKEEPER_HOME", &home)
        .env("GRANTKEEPER_KEYCHAIN_SERVICE", &setup.service)
        .output()
        .unwrap();
    assert_eq!(app.status.code(), Some(1), "{app:?}");
    let shown = notifications.wait_for("Grantkeeper cannot start");
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].body.contains("a newer Grantkeeper wrote it (its version 999"), "{shown:?}");
    assert!(shown[0].body.contains("/R&amp;D &lt;i&gt;notes&lt;/i&gt;/grantkeeper.sqlite3"), "{shown:?}");
    let kept: u32 = newer().query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!(kept, 999);
}

/// A name, an account or a "Same sign-in as" line longer than the window breaks inside
/// its row instead of widening every row and the page: two connections on one sign-in,
/// one of them named with a single 100-character word.
#[tokio::test]
async fn long_names_wrap_inside_their_rows() {
    let setup = Setup::new().await;
    let op = OidcProvider::start();
    let driver = setup.driver(BrowserMode::Consent);
    let client = driver.launch().await;
    find(&client, "empty-state").await;
    add_provider(&client, &op.issuer).await;
    connect(&client, "Work mail").await;
    let long = "W".repeat(100);
    find(&client, "nav-providers").await.click().await.unwrap();
    find(&client, "provider-connect").await.click().await.unwrap();
    type_into(&client, "connect-name", &long).await;
    find(&client, "connect-start").await.click().await.unwrap();
    wait_for_text(&client, "connection-shared", |t| t.contains(&long)).await;
    screenshot(&client, "connections-long-name").await;
    expect_fits(&client, "connections with a long name").await;
    find(&client, "connection-open").await.click().await.unwrap();
    wait_for_text(&client, "activity-row", |_| true).await;
    expect_fits(&client, "the detail view of a connection sharing its sign-in with a long name").await;
    find(&client, "nav-connections").await.click().await.unwrap();
    let rows = client.find_all(Locator::Css("[data-testid=connection-open]")).await.unwrap();
    rows[1].click().await.unwrap();
    wait_for_text(&client, "activity-row", |_| true).await;
    screenshot(&client, "detail-long-name").await;
    expect_fits(&client, "the detail view of a connection with a long name").await;
    // Its first sign-in was Work mail's, grown for it: it was connected, not reconnected.
    find(&client, "nav-activity").await.click().await.unwrap();
    let newest = wait_for_text(&client, "activity-row", |_| true).await;
    assert!(newest.contains("Connected on a shared sign-in") && newest.contains(&long), "{newest}");
    quit(client, setup.home()).await;
}

/// `&` and `_` mark access keys in menus; a connection named with both is listed in the
/// tray menu as it is named.
#[tokio::test]
async fn a_name_with_menu_marks_shows_whole_in_the_tray() {
    let setup = Setup::new().await;
    let op = OidcProvider::start();
    let driver = setup.driver(BrowserMode::Consent);
    let tray = TrayHost::start();
    let client = driver.launch().await;
    find(&client, "empty-state").await;
    add_provider(&client, &op.issuer).await;
    connect(&client, "R&D_2 mail").await;
    assert!(op.revoke_grants("ada").await >= 1);
    find(&client, "connection-open").await.click().await.unwrap();
    find(&client, "connection-refresh").await.click().await.unwrap();
    wait_for_text(&client, "connection-status", |t| t == "Reauthorize").await;
    tray.wait_for_menu(|menu| menu.iter().any(|e| e.label == "Reconnect R&D_2 mail (Local OP)"));
    quit(client, setup.home()).await;
}

/// Removes the connection on screen from its detail view. The row goes as soon as
/// SQLite forgets it; the keychain entry right after.
async fn remove_clears_the_keychain(client: &Client, service: &str) {
    find(client, "connection-open").await.click().await.unwrap();
    find(client, "connection-remove").await.click().await.unwrap();
    find(client, "confirm-remove").await.click().await.unwrap();
    find(client, "empty-state").await;
    assert_eq!(text_of(client, "connection-row").await, None);
    poll(WAIT, Duration::from_millis(200), async || {
        if secret_tool_keys(service).iter().any(|k| k.starts_with("credential/")) {
            return Err("the tokens stayed in the keychain".to_owned());
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn declined_consent_says_so_in_the_window() {
    let setup = Setup::new().await;
    let op = OidcProvider::start();
    let driver = setup.driver(BrowserMode::Deny);
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
    assert!(secret_tool_keys(&setup.service).is_empty());
    client.close().await.unwrap();
}

/// A sign-in approved in a browser on another device: the person pastes the address it
/// ended on into the waiting panel. One that is not this sign-in's is refused at the
/// field, and the sign-in goes on until the right one finishes it.
#[tokio::test]
async fn a_sign_in_approved_on_another_device_finishes_with_the_pasted_address() {
    let setup = Setup::new().await;
    let op = OidcProvider::start();
    let opened = setup.home().join("opened.txt");
    // The browser here opens the link and does nothing more, like one the person left.
    let driver =
        setup.driver_with(BrowserMode::Ignore, &[("GRANTKEEPER_TEST_BROWSER_LOG", opened.to_str().unwrap())]);
    let client = driver.launch().await;
    find(&client, "empty-state").await;
    add_provider(&client, &op.issuer).await;
    find(&client, "provider-connect").await.click().await.unwrap();
    type_into(&client, "connect-name", "Phone mail").await;
    find(&client, "connect-start").await.click().await.unwrap();
    find(&client, "pending-flow").await;
    let link = poll(WAIT, Duration::from_millis(100), async || {
        std::fs::read_to_string(&opened).map_err(|e| e.to_string())
    })
    .await;
    let address = approve_elsewhere(&link, "grace");

    find(&client, "pending-elsewhere").await.click().await.unwrap();
    type_into(&client, "pending-address", &address.replace("state=", "state=x")).await;
    find(&client, "pending-finish").await.click().await.unwrap();
    let refused = wait_for_text(&client, "pending-flow", |t| t.contains("another sign-in")).await;
    assert!(refused.contains("belongs to another sign-in"), "{refused}");
    screenshot(&client, "pending-elsewhere").await;
    type_into(&client, "pending-address", &address).await;
    find(&client, "pending-finish").await.click().await.unwrap();
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    let account = wait_for_text(&client, "connection-account", |_| true).await;
    assert!(account.contains("grace@example.test"), "{account}");
    quit(client, setup.home()).await;
}

/// Quits through the app's own button and waits until it is gone.
async fn quit(client: Client, home: &Path) {
    // The app is gone before the click's answer comes back.
    let _ = find(&client, "quit").await.click().await;
    drop(client);
    wait_until_quit(home);
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
    poll(WAIT, Duration::from_millis(100), async || {
        let first = std::fs::read_dir(dir).ok().and_then(|mut entries| entries.next()).and_then(Result::ok);
        first.map(|entry| entry.path()).ok_or_else(|| format!("nothing appeared in {}", dir.display()))
    })
    .await
}

/// Clicks the first element matching `css` once it is on screen.
async fn click_css(client: &Client, css: &str) {
    let script = "return document.querySelector(arguments[0]) !== null;";
    poll(WAIT, Duration::from_millis(150), async || {
        if client.execute(script, vec![serde_json::json!(css)]).await.unwrap() != serde_json::json!(true) {
            return Err(format!("{css} never showed"));
        }
        Ok(())
    })
    .await;
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn the_catalog_sets_up_a_provider_app_and_connects() {
    let setup = Setup::new().await;
    // The real OpenID provider as a self-managed GitLab: the catalog's GitLab entry
    // with only its server address changed.
    let op = OidcProvider::start_with(&[("OIDC_PROFILE", "gitlab")]);
    let driver = setup.driver(BrowserMode::Consent);

    let client = driver.launch().await;
    find(&client, "empty-go-catalog").await.click().await.unwrap();
    find(&client, "catalog-search").await;
    screenshot(&client, "catalog").await;
    let newest = "[data-integration-id='azure-devops']";
    client
        .execute("document.querySelector(arguments[0]).scrollIntoView()", vec![newest.into()])
        .await
        .unwrap();
    screenshot(&client, "catalog-later-providers").await;
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
    find(&client, "connection-open").await.click().await.unwrap();
    find(&client, "connection-test").await.click().await.unwrap();
    let tested = wait_for_text(&client, "connection-tested", |_| true).await;
    assert!(tested.contains("answered for ada"), "{tested}");

    find(&client, "nav-providers").await.click().await.unwrap();
    let row = wait_for_text(&client, "provider-row", |t| t.contains("GitLab")).await;
    assert!(row.contains(&op.issuer) && row.contains("grantkeeper-gitlab"), "{row}");

    start_at_login_comes_and_goes(&client, &setup.home().join("config/autostart")).await;
    client.close().await.unwrap();
}

/// Start at login: an XDG autostart entry in `autostart` that launches this app, gone
/// again when the switch is turned off.
async fn start_at_login_comes_and_goes(client: &Client, autostart: &Path) {
    find(client, "start-at-login").await.click().await.unwrap();
    let entry = wait_for_file(autostart).await;
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.contains("[Desktop Entry]") && text.contains("Exec="), "{text}");
    assert!(text.contains(" --background\n"), "at login, the tray only: {text}");
    find(client, "start-at-login").await.click().await.unwrap();
    poll(WAIT, Duration::from_millis(100), async || {
        if entry.exists() {
            return Err("the autostart entry stayed".to_owned());
        }
        Ok(())
    })
    .await;
}

/// Sends keys to whatever has keyboard focus, as a person at the keyboard would.
async fn press(client: &Client, keys: &str) {
    client.active_element().await.unwrap().send_keys(keys).await.unwrap();
}

fn shift_tab() -> String {
    format!("{}{}", Key::Shift, Key::Tab)
}

/// The focused element: `id` (its test id, else its id, else null for the body),
/// `what` (tag and accessible text, for messages) and `shown`: whether a person can
/// see where focus is, i.e. it matches :focus-visible and draws an outline or a box shadow.
async fn focused(client: &Client) -> serde_json::Value {
    let script = "
        const e = document.activeElement;
        if (!e || e === document.body) return { id: null, what: 'body', shown: false };
        const style = getComputedStyle(e);
        const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        const shadow = style.boxShadow !== 'none';
        const label = e.getAttribute('aria-label') || e.innerText || e.value || '';
        return {
            id: e.dataset.testid || e.id || null,
            what: e.tagName.toLowerCase() + ' ' + label.trim(),
            shown: e.matches(':focus-visible') && (outline || shadow),
        };";
    client.execute(script, vec![]).await.unwrap()
}

/// Waits until this element has keyboard focus, and checks that the focus shows.
async fn expect_focus(client: &Client, id: &str) {
    wait_for_focus(client, id).await;
    // The focus ring may ease in; it must be there within a moment.
    poll(Duration::from_secs(2), Duration::from_millis(100), async || {
        let now = focused(client).await;
        if now["shown"] == true {
            return Ok(());
        }
        Err(format!("no visible focus on {id}: {now}"))
    })
    .await;
}

/// Presses `key` (Tab or Shift+Tab) until `id` has focus; every stop on the way must
/// show its focus.
async fn tab_to(client: &Client, key: &str, id: &str) {
    let mut stops = Vec::new();
    for _ in 0..25 {
        press(client, key).await;
        let now = focused(client).await;
        assert_eq!(now["shown"], true, "no visible focus after {stops:?}: {now}");
        stops.push(now["what"].as_str().unwrap_or_default().to_owned());
        if now["id"] == id {
            return;
        }
    }
    panic!("Tab never reached {id}: {stops:?}");
}

#[tokio::test]
async fn the_main_path_works_from_the_keyboard_alone() {
    let setup = Setup::new().await;
    let op = OidcProvider::start();
    let driver = setup.driver(BrowserMode::Consent);
    let client = driver.launch().await;
    let tab = Key::Tab.to_string();
    let back = shift_tab();

    keyboard_first_run_to_the_catalog(&client, &tab, &back).await;
    keyboard_adds_the_provider(&client, &tab, &back, &op.issuer).await;
    keyboard_connects(&client, &tab, &back).await;
    keyboard_opens_and_keeps_the_connection(&client, &tab).await;
    client.close().await.unwrap();
}

/// First run: nothing is focused; the first Tab lands on the header's sections, and
/// the empty state leads to the catalog's search.
async fn keyboard_first_run_to_the_catalog(client: &Client, tab: &str, back: &str) {
    find(client, "empty-state").await;
    press(client, tab).await;
    expect_focus(client, "nav-connections").await;
    tab_to(client, tab, "empty-go-catalog").await;
    // The button goes away with the page; focus moves on to the catalog's search.
    press(client, &Key::Enter).await;
    expect_focus(client, "catalog-search").await;
    // "/" brings focus back to the search from elsewhere (Add by URL, just before it), and
    // is not typed into it.
    press(client, back).await;
    expect_focus(client, "add-url-open").await;
    press(client, "/").await;
    expect_focus(client, "catalog-search").await;
    let typed = client.execute("return document.activeElement.value", vec![]).await.unwrap();
    assert_eq!(typed, "", "the / was typed into the search");
}

/// Provider apps: the section buttons keep focus while the page changes under them;
/// then the custom provider, field by field as add_provider fills it in.
async fn keyboard_adds_the_provider(client: &Client, tab: &str, back: &str, issuer: &str) {
    tab_to(client, back, "nav-providers").await;
    press(client, &Key::Enter).await;
    find(client, "add-provider-form").await;
    let current =
        client.execute("return document.activeElement.getAttribute('aria-current')", vec![]).await.unwrap();
    assert_eq!(current, "page");
    expect_focus(client, "nav-providers").await;

    tab_to(client, tab, "provider-name").await;
    press(client, "Local OP").await;
    press(client, tab).await;
    // Tab enters the radio group at its checked choice; Space keeps it chosen.
    expect_focus(client, "provider-mode-issuer").await;
    press(client, &Key::Space).await;
    for (field, text) in [
        ("provider-issuer", issuer),
        ("provider-client-id", "grantkeeper-test"),
        ("provider-client-secret", ""),
        ("provider-scopes", "openid email offline_access"),
    ] {
        press(client, tab).await;
        expect_focus(client, field).await;
        if !text.is_empty() {
            press(client, text).await;
        }
    }
    press(client, tab).await;
    expect_focus(client, "provider-save").await;
    press(client, &Key::Enter).await;
    let row = wait_for_text(client, "provider-row", |_| true).await;
    assert!(row.contains("Local OP") && row.contains(issuer), "{row}");
}

/// Saving disables the focused button, so focus falls to the page (reported, not
/// asserted); the navigation point stays put, and Shift+Tab walks back to the new row.
/// Connect opens its form at the name; Escape closes it from the field or a button
/// and gives focus back to Connect. Then the connection is made.
async fn keyboard_connects(client: &Client, tab: &str, back: &str) {
    tab_to(client, back, "provider-connect").await;
    press(client, &Key::Enter).await;
    expect_focus(client, "connect-name").await;
    press(client, &Key::Escape).await;
    expect_focus(client, "provider-connect").await;
    assert_eq!(text_of(client, "connect-start").await, None, "Escape closed the form");
    press(client, &Key::Space).await;
    expect_focus(client, "connect-name").await;
    press(client, tab).await;
    expect_focus(client, "connect-start").await;
    press(client, &Key::Escape).await;
    expect_focus(client, "provider-connect").await;
    assert_eq!(text_of(client, "connect-start").await, None, "Escape closed the form");

    press(client, &Key::Enter).await;
    expect_focus(client, "connect-name").await;
    press(client, "Work mail").await;
    press(client, tab).await;
    expect_focus(client, "connect-start").await;
    press(client, &Key::Space).await;
    wait_for_text(client, "connection-status", |t| t == "Active").await;
    let row = wait_for_text(client, "connection-row", |_| true).await;
    assert!(row.contains("Work mail") && row.contains("ada@example.test"), "{row}");
}

/// The window switches to Connections without placing focus (reported); Tab from
/// there reaches the new row, whose name opens its detail view.
async fn keyboard_opens_and_keeps_the_connection(client: &Client, tab: &str) {
    tab_to(client, tab, "connection-open").await;
    press(client, &Key::Enter).await;
    wait_for_focus(client, "connection-detail-title").await;
    tab_to(client, tab, "connection-refresh").await;
    // Remove asks first, focus on No; Escape answers No and returns to Remove.
    tab_to(client, tab, "connection-remove").await;
    press(client, &Key::Enter).await;
    poll(WAIT, Duration::from_millis(150), async || {
        if focused(client).await["what"] != "button No" {
            return Err("No never got the focus".to_owned());
        }
        Ok(())
    })
    .await;
    assert_eq!(focused(client).await["shown"], true);
    screenshot(client, "keyboard-remove").await;
    press(client, &Key::Escape).await;
    expect_focus(client, "connection-remove").await;
    assert_eq!(text_of(client, "confirm-remove").await, None);
    // A second Escape leaves the detail view for the row it was opened from.
    press(client, &Key::Escape).await;
    expect_focus(client, "connection-open").await;
    wait_for_text(client, "connection-status", |t| t == "Active").await;
}

/// Whether the page asks for dark colours, and the background and text colours the
/// page shows as [r, g, b]. The body has no background of its own (transparent): the
/// page colour is the root element's, which the canvas takes.
async fn colour_scheme(client: &Client) -> (bool, [u8; 3], [u8; 3]) {
    let script = "
        const rgb = (c) => c.match(/\\d+/g).slice(0, 3).map(Number);
        let e = document.body;
        while (e.parentElement && getComputedStyle(e).backgroundColor === 'rgba(0, 0, 0, 0)') e = e.parentElement;
        return [
            window.matchMedia('(prefers-color-scheme: dark)').matches,
            rgb(getComputedStyle(e).backgroundColor),
            rgb(getComputedStyle(document.body).color),
        ];";
    let value = client.execute(script, vec![]).await.unwrap();
    let rgb = |v: &serde_json::Value| -> [u8; 3] { serde_json::from_value(v.clone()).unwrap() };
    (value[0] == true, rgb(&value[1]), rgb(&value[2]))
}

/// The page is painted on the CPU (`src-tauri/src/painting.rs`: GPU painting keeps
/// 28 MiB more for a page of text), unless the person set WebKit's variable themselves.
/// WebKit's web process reads it, so that process's environment is what counts.
#[tokio::test]
async fn the_page_is_painted_on_the_cpu_unless_the_person_chose() {
    let setup = Setup::new().await;
    for (given, expected) in [(None, "1"), (Some("0"), "0")] {
        let env: Vec<(&str, &str)> =
            given.map(|value| ("WEBKIT_SKIA_ENABLE_CPU_RENDERING", value)).into_iter().collect();
        let driver = setup.driver_with(BrowserMode::Consent, &env);
        let client = driver.launch().await;
        find(&client, "nav-catalog").await;
        let painting = web_process_env(&driver, "WEBKIT_SKIA_ENABLE_CPU_RENDERING");
        assert_eq!(painting.as_deref(), Some(expected), "given {given:?}");
        quit(client, setup.home()).await;
    }
}

/// `name` in the environment of the app's web process: the WebKitWebProcess that
/// descends from the grantkeeper-app that `driver` started.
fn web_process_env(driver: &Driver, name: &str) -> Option<String> {
    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect();
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(") ")?.1.split_whitespace().nth(1)?.parse().ok()
    };
    // Under this driver, so under its app: the previous app's web process may not have
    // exited yet.
    let from_the_app = |pid: u32| {
        std::iter::successors(parent(pid), |&up| parent(up)).take(8).any(|up| up == driver.child.id())
    };
    let web = pids.into_iter().find(|&pid| {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        name.trim() == "WebKitWebProces" && from_the_app(pid)
    })?;
    let environ = std::fs::read(format!("/proc/{web}/environ")).ok()?;
    let prefix = format!("{name}=");
    environ
        .split(|&byte| byte == 0)
        .find_map(|entry| Some(std::str::from_utf8(entry).ok()?.strip_prefix(&prefix)?.to_owned()))
}

/// r + g + b: under 200 reads as a dark colour, over 600 as a light one.
fn brightness(rgb: [u8; 3]) -> u32 {
    rgb.iter().map(|&c| u32::from(c)).sum()
}

#[tokio::test]
async fn light_and_dark_follow_the_system() {
    let setup = Setup::new().await;
    let op = OidcProvider::start();

    // A connection to show, made in a first run.
    let driver = setup.driver(BrowserMode::Consent);
    let client = driver.launch().await;
    add_provider(&client, &op.issuer).await;
    connect(&client, "Work mail").await;
    quit(client, setup.home()).await;
    drop(driver);
    move_the_token_url(&setup).await;

    // The same data under each system preference. WebKitGTK answers prefers-color-scheme:
    // dark when GTK_THEME names a ":dark" variant (as for gtk-application-prefer-dark-theme);
    // the light run sets its theme too, so a dark desktop around the tests changes nothing.
    for (scheme, theme) in [("light", "Adwaita"), ("dark", "Adwaita:dark")] {
        let env = [("GTK_THEME", theme)];
        let driver = setup.driver_with(BrowserMode::Consent, &env);
        let client = driver.launch().await;
        wait_for_text(&client, "connection-status", |t| t == "Active").await;
        expect_the_scheme(&client, scheme, theme).await;
        quit(client, setup.home()).await;
    }

    // At 200% zoom (Ctrl+= five times: 1.0 + 5 × 0.2) the 1000-pixel window is 500 CSS
    // pixels wide: every screen still fits, with no sideways scrolling and no control cut off.
    let driver = setup.driver(BrowserMode::Consent);
    let client = driver.launch().await;
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    zoom_to_200(&client).await;
    every_screen_fits(&client).await;
    // Quit by keyboard too; the app is gone before the answer comes back.
    let _ = find(&client, "quit").await.send_keys(&Key::Enter.to_string()).await;
    drop(client);
    wait_until_quit(setup.home());
}

/// The page's colours fit the `scheme` that GTK_THEME=`theme` asks for, on every screen.
async fn expect_the_scheme(client: &Client, scheme: &str, theme: &str) {
    let (dark, background, text) = colour_scheme(client).await;
    assert_eq!(dark, scheme == "dark", "prefers-color-scheme under GTK_THEME={theme}");
    let (page, ink) = (brightness(background), brightness(text));
    let fits = if dark { page < 200 && ink > 600 } else { page > 600 && ink < 300 };
    assert!(fits, "{scheme}: page {background:?}, text {text:?}");
    screenshot(client, &format!("connections-{scheme}")).await;
    find(client, "connection-open").await.click().await.unwrap();
    find(client, "detail-removal").await;
    wait_for_text(client, "activity-row", |_| true).await;
    screenshot(client, &format!("detail-{scheme}")).await;
    find(client, "nav-catalog").await.click().await.unwrap();
    find(client, "catalog-search").await;
    screenshot(client, &format!("catalog-{scheme}")).await;
    find(client, "nav-providers").await.click().await.unwrap();
    let note = "“Work mail” keeps using the previous address until reconnected";
    wait_for_text(client, "provider-previous-addresses", |t| t.contains(note)).await;
    find(client, "provider-edit").await.click().await.unwrap();
    find(client, "app-enabled").await;
    screenshot(client, &format!("providers-{scheme}")).await;
}

/// The provider app's token URL changes after the sign-in (as another process would
/// change it): its connection keeps the address it was signed in with.
async fn move_the_token_url(setup: &Setup) {
    use grantkeeper_engine::api::ProviderAppInput;
    use grantkeeper_engine::provider::EndpointOverrides;
    use grantkeeper_engine::{oauth::Browser, Config, Engine, Keychain};
    let config = Config::new(setup.home().to_owned(), setup.service.clone(), Browser::None);
    let engine = Engine::open(config, std::sync::Arc::new(Keychain::new(setup.service.clone()))).unwrap();
    let moved = ProviderAppInput {
        endpoints: EndpointOverrides {
            token_url: Some("https://sso.example.com/token".into()),
            ..Default::default()
        },
        ..ProviderAppInput::default()
    };
    let provider = engine.set_provider_app("Local OP", moved).await.unwrap();
    assert_eq!(provider.on_previous_addresses, ["Work mail"]);
}

/// Ctrl+= five times (1.0 + 5 × 0.2), until the page is half as wide in CSS pixels.
/// One key at a time, each waited for: under load WebKitWebDriver can lose a key sent
/// while the page lays itself out again, so one that changes nothing is sent again (and
/// one that arrives late and overshoots is undone with Ctrl+-).
async fn zoom_to_200(client: &Client) {
    let width = async || client.execute("return window.innerWidth", vec![]).await.unwrap().as_f64().unwrap();
    let target = width().await / 2.0;
    for _ in 0..15 {
        let before = width().await;
        if (before - target).abs() <= 2.0 {
            return;
        }
        let key = if before > target { "=" } else { "-" };
        press(client, &format!("{}{key}{}", Key::Control, Key::Null)).await;
        for _ in 0..20 {
            if (width().await - before).abs() > 1.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
    panic!("zoomed to {} CSS px, not {target}", width().await);
}

/// Every screen fits the zoomed window.
async fn every_screen_fits(client: &Client) {
    expect_fits(client, "the connections").await;
    screenshot(client, "zoom-200-connections").await;
    activate(client, "connection-open").await;
    wait_for_text(client, "activity-row", |_| true).await;
    expect_fits(client, "a connection's detail view").await;
    screenshot(client, "zoom-200-detail").await;
    activate(client, "nav-catalog").await;
    find(client, "catalog-search").await;
    expect_fits(client, "the catalog").await;
    activate(client, "nav-providers").await;
    activate(client, "provider-edit").await;
    find(client, "app-enabled").await;
    expect_fits(client, "provider apps with a form open").await;
    screenshot(client, "zoom-200-providers").await;
    activate(client, "nav-activity").await;
    wait_for_text(client, "activity-row", |_| true).await;
    expect_fits(client, "the activity log").await;
}

/// Presses Enter on a button, as a keyboard user would. (Under page zoom WebKitWebDriver's
/// clicks can land beside the element.)
async fn activate(client: &Client, id: &str) {
    find(client, id).await.send_keys(&Key::Enter.to_string()).await.unwrap();
}

/// No sideways scrolling, and every control, field and status chip lies wholly within the page's width.
async fn expect_fits(client: &Client, what: &str) {
    let script = "
        const width = document.documentElement.clientWidth;
        const cut = [...document.querySelectorAll('button, input, select, a, [data-testid=connection-status]')]
            .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
            .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 1 && (r.left < -0.5 || r.right > width + 0.5); })
            .map((e) => `${e.dataset.testid || e.tagName} ${(e.innerText || e.value || '').trim().slice(0, 40)}`);
        return [width, document.documentElement.scrollWidth, cut];";
    let found = client.execute(script, vec![]).await.unwrap();
    assert!(found[1].as_f64() <= found[0].as_f64(), "{what} scroll sideways: {found}");
    assert_eq!(found[2], serde_json::json!([]), "{what}: controls cut off at the edge: {found}");
}

#[tokio::test]
async fn the_window_keeps_its_size_and_place_across_restarts() {
    let setup = Setup::new().await;
    let driver = setup.driver(BrowserMode::Consent);
    let state_file = setup.home().join("window-state.json");

    let client = driver.launch().await;
    find(&client, "empty-state").await;
    let (x, y, width, height) = (40, 30, 820, 610);
    assert_ne!(client.get_window_rect().await.unwrap(), (x, y, width, height), "already there");
    client.set_window_rect(x as u32, y as u32, width as u32, height as u32).await.unwrap();
    assert_eq!(client.get_window_rect().await.unwrap(), (x, y, width, height));
    // The plugin writes its file when the app exits.
    quit(client, setup.home()).await;
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(
        (&saved["main"]["width"], &saved["main"]["height"]),
        (&width.into(), &height.into()),
        "{saved}"
    );

    // A new process, same data directory: the window opens as it was left.
    let client = driver.launch().await;
    find(&client, "empty-state").await;
    assert_eq!(client.get_window_rect().await.unwrap(), (x, y, width, height));
    let outer = client.execute("return [window.outerWidth, window.outerHeight]", vec![]).await.unwrap();
    assert_eq!(outer, serde_json::json!([width, height]), "what the page sees");
    client.close().await.unwrap();
}

/// Each of the window's four defences, checked on its own in the real app: every step
/// sends something that only that layer refuses, so it fails when that one layer is
/// removed (the CSP, `freezePrototype`, the isolation pattern in `tauri.conf.json`, or the
/// narrow capability in `src-tauri/capabilities/default.json`).
#[tokio::test]
async fn each_window_defence_refuses_on_its_own() {
    let setup = Setup::new().await;
    let driver = setup.driver(BrowserMode::Consent);
    let client = driver.launch().await;
    find(&client, "empty-state").await;

    csp_refuses_eval_inline_and_remote_code(&client).await;
    object_prototype_is_frozen(&client).await;
    isolation_frame_refuses_what_the_capability_lets_through(&client).await;
    capability_refuses_what_the_frame_lets_through(&client).await;
    client.close().await.unwrap();
}

/// A loopback HTTP server that answers everything with a script and writes down each
/// request line: the proof that a blocked load or fetch never left the page.
struct LoopbackWitness {
    origin: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl LoopbackWitness {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        // Left running until the test process ends; it only ever answers loopback.
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                use std::io::{BufRead, Write};
                let mut line = String::new();
                let _ = std::io::BufReader::new(&stream).read_line(&mut line);
                seen.lock().unwrap().push(line.trim_end().to_owned());
                let body = "window.__remoteRan = true;";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/javascript\r\nAccess-Control-Allow-Origin: *\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        LoopbackWitness { origin, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Layer 1, the CSP: no `eval`/`new Function` (no 'unsafe-eval'), no inline script made
/// by a script (no 'unsafe-inline' for scripts), no script from another origin and no
/// fetch to one (`connect-src` names only the IPC).
async fn csp_refuses_eval_inline_and_remote_code(client: &Client) {
    let witness = LoopbackWitness::start();
    let seen = client
        .execute_async(
            "const [origin, done] = [arguments[0], arguments[arguments.length - 1]];
             const seen = {};
             try { seen.eval = eval('\"ran\"'); } catch (e) { seen.eval = e.name; }
             try { seen.function = new Function('return \"ran\"')(); } catch (e) { seen.function = e.name; }
             const inline = document.createElement('script');
             inline.textContent = 'window.__inlineRan = true;';
             document.head.append(inline);
             seen.inline = window.__inlineRan === true ? 'ran' : 'blocked';
             const remote = document.createElement('script');
             const loaded = new Promise((resolve) => {
               remote.onload = () => resolve(window.__remoteRan === true ? 'ran' : 'loaded');
               remote.onerror = () => resolve('blocked');
             });
             remote.src = origin + '/script.js';
             document.head.append(remote);
             const fetched = fetch(origin + '/fetch', { mode: 'no-cors' }).then(() => 'ran', () => 'blocked');
             Promise.all([loaded, fetched]).then(([script, fetch]) => done({ ...seen, script, fetch }));",
            vec![serde_json::json!(witness.origin)],
        )
        .await
        .unwrap();
    let refused = serde_json::json!({
        "eval": "EvalError", "function": "EvalError", "inline": "blocked", "script": "blocked", "fetch": "blocked"
    });
    assert_eq!(seen, refused, "CSP layer: the page ran or loaded code it must not");
    assert_eq!(witness.requests(), Vec::<String>::new(), "CSP layer: the page reached another origin");
}

/// Layer 2, `freezePrototype`: `Object.prototype` is frozen, so a script cannot pollute
/// every object in the page.
async fn object_prototype_is_frozen(client: &Client) {
    let seen = client
        .execute(
            "const frozen = Object.isFrozen(Object.prototype);
             try { Object.prototype.polluted = 1; } catch (e) { /* strict code throws; either way */ }
             const polluted = ({}).polluted !== undefined;
             try { delete Object.prototype.polluted; } catch (e) { /* frozen */ }
             return { frozen, polluted };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        seen,
        serde_json::json!({ "frozen": true, "polluted": false }),
        "freezePrototype layer: Object.prototype can be changed"
    );
}

/// How an `invoke` from the page ends within three seconds: "answered", "refused: …", or
/// "no answer" (the isolation frame drops what it refuses, so the promise never settles).
async fn invoke_outcome(client: &Client, cmd: &str, options: serde_json::Value) -> String {
    let outcome = client
        .execute_async(
            "const [cmd, options, done] = arguments;
             setTimeout(() => done('no answer'), 3000);
             window.__TAURI_INTERNALS__.invoke(cmd, null, options)
               .then(() => done('answered'), (e) => done('refused: ' + e));",
            vec![serde_json::json!(cmd), options],
        )
        .await
        .unwrap();
    outcome.as_str().unwrap().to_owned()
}

/// Layer 3, the isolation frame (`ui/isolation/index.js`). The capability and the frame
/// allow the same command names, with one exception: Tauri lets its channel-data command
/// past every capability (a special case in Tauri 2's ACL check). The frame's allowlist
/// does not name it, so only the frame stands between the page and it. Grantkeeper sends
/// no channel data, so nothing legitimate uses it.
async fn isolation_frame_refuses_what_the_capability_lets_through(client: &Client) {
    // The IPC itself works: a command both layers allow is answered.
    assert_eq!(invoke_outcome(client, "list_catalog", serde_json::json!({})).await, "answered");
    let channel_fetch = serde_json::json!({ "headers": { "Tauri-Channel-Id": "0" } });
    assert_eq!(
        invoke_outcome(client, "plugin:__TAURI_CHANNEL__|fetch", channel_fetch).await,
        "no answer",
        "isolation layer: a command outside the frame's allowlist reached the app"
    );
}

/// Sends `sent_as` to the app under the isolation frame's seal for `sealed_as`: the frame
/// checks and seals a message for a command it allows, and the page swaps the command name
/// before passing the sealed message on. This works because Tauri's frame encrypts only
/// the arguments, not the command name; it is how a script in the page gets any command
/// past the frame, leaving the capability as the gate on command names.
async fn through_the_frame_as(client: &Client, sealed_as: &str, sent_as: &str) -> serde_json::Value {
    client
        .execute_async(
            "const [sealedAs, sentAs, done] = arguments;
             const internals = window.__TAURI_INTERNALS__;
             setTimeout(() => done(['no answer']), 5000);
             // The frame's own message for sealedAs still goes out too; its answer is dropped.
             const seal = internals.transformCallback(() => {}, true);
             const sealError = internals.transformCallback(() => {}, true);
             const callback = internals.transformCallback((r) => done(['answered', r]), true);
             const error = internals.transformCallback((e) => done(['refused', String(e)]), true);
             window.addEventListener('message', function swap(event) {
               const sealed = event.data;
               if (!sealed || sealed.callback !== seal || typeof sealed.payload !== 'object') return;
               window.removeEventListener('message', swap);
               internals.postMessage({ ...sealed, cmd: sentAs, callback, error });
             });
             internals.ipc({ cmd: sealedAs, callback: seal, error: sealError, payload: {}, options: undefined });",
            vec![serde_json::json!(sealed_as), serde_json::json!(sent_as)],
        )
        .await
        .unwrap()
}

/// What the app answers the page for a command without arguments.
async fn answer_of(client: &Client, cmd: &str) -> serde_json::Value {
    client
        .execute_async(
            "const [cmd, done] = arguments;
             window.__TAURI_INTERNALS__.invoke(cmd).then(done, (e) => done('refused: ' + e));",
            vec![serde_json::json!(cmd)],
        )
        .await
        .unwrap()
}

/// Layer 4, the capability: a message the frame lets through (sealed for `list_catalog`)
/// but naming a core command that `core:default` would grant is refused by the ACL.
async fn capability_refuses_what_the_frame_lets_through(client: &Client) {
    // The swap itself works: sealed as list_catalog, sent as list_providers, the app runs
    // list_providers (whose answer differs from the catalog's).
    let (providers, catalog) =
        (answer_of(client, "list_providers").await, answer_of(client, "list_catalog").await);
    assert_ne!(providers, catalog);
    let swapped = through_the_frame_as(client, "list_catalog", "list_providers").await;
    assert_eq!(swapped, serde_json::json!(["answered", providers]), "the swapped command did not run");

    let version = through_the_frame_as(client, "list_catalog", "plugin:app|version").await;
    assert_eq!(version[0], "refused", "capability layer: plugin:app|version was not refused: {version}");
    assert!(
        version[1].as_str().unwrap_or_default().contains("not allowed"),
        "capability layer: refused, but not by the ACL: {version}"
    );
}

/// Catalog → Add by URL against the MCP reference SDK's example server: the plan before
/// the browser opens, then an Active connection marked as an MCP server with its URL, and
/// its detail view's snippet for an AI client. Then the same screens in the dark and at
/// 200% zoom, with a registration Grantkeeper now has there.
#[tokio::test]
async fn an_mcp_server_added_by_url_is_handed_to_an_ai_client() {
    let setup = Setup::new().await;
    let server = McpExample::start(false);
    let driver = setup.driver_with(BrowserMode::Consent, &[("GTK_THEME", "Adwaita")]);
    let client = driver.launch().await;

    let identity = add_by_url_shows_the_plan(&client, &server).await;
    assert!(identity.contains("registers itself"), "a server never seen: {identity}");
    // What it would send that server, one click away.
    click_css(&client, "[data-testid=plan-metadata] summary").await;
    let metadata = wait_for_text(&client, "plan-metadata", |t| t.contains("redirect_uris")).await;
    assert!(metadata.contains("\"token_endpoint_auth_method\": \"none\""), "{metadata}");
    scroll_to(&client, "add-url-form").await;
    screenshot(&client, "add-by-url-plan-light").await;

    find(&client, "add-url-sign-in").await.click().await.unwrap();
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    let row = wait_for_text(&client, "connection-row", |_| true).await;
    assert!(row.contains("Example MCP"), "{row}");
    assert_eq!(text_of(&client, "connection-mcp").await.as_deref(), Some("MCP server"));
    assert_eq!(text_of(&client, "connection-resource").await.as_deref(), Some(server.url.as_str()));
    screenshot(&client, "mcp-row-light").await;
    a_long_url_wraps_in_its_row(&client).await;

    let id = the_detail_view_gives_the_snippet(&client, "light").await;
    quit(client, setup.home()).await;
    drop(driver);

    let driver = setup.driver_with(BrowserMode::Consent, &[("GTK_THEME", "Adwaita:dark")]);
    let client = driver.launch().await;
    wait_for_text(&client, "connection-status", |t| t == "Active").await;
    screenshot(&client, "mcp-row-dark").await;
    assert_eq!(the_detail_view_gives_the_snippet(&client, "dark").await, id);
    let identity = add_by_url_shows_the_plan(&client, &server).await;
    assert!(identity.contains("With the registration it made there"), "{identity}");
    scroll_to(&client, "add-url-form").await;
    screenshot(&client, "add-by-url-plan-dark").await;

    zoom_to_200(&client).await;
    expect_fits(&client, "Add by URL with its plan").await;
    scroll_to(&client, "resource-plan").await;
    screenshot(&client, "zoom-200-add-by-url").await;
    activate(&client, "nav-connections").await;
    activate(&client, "connection-open").await;
    find(&client, "ai-client-snippet").await;
    expect_fits(&client, "an MCP server's detail view").await;
    scroll_to(&client, "ai-client").await;
    screenshot(&client, "zoom-200-mcp-detail").await;
    client.close().await.unwrap();
}

/// Catalog → Add by URL: Continue says who guards the URL before the browser opens.
/// Returns how Grantkeeper will identify itself, as the window says it.
async fn add_by_url_shows_the_plan(client: &Client, server: &McpExample) -> String {
    let url = server.url.as_str();
    find(client, "nav-catalog").await.click().await.unwrap();
    find(client, "add-url-open").await.click().await.unwrap();
    type_into(client, "add-url-url", url).await;
    type_into(client, "add-url-name", "Example MCP").await;
    find(client, "add-url-continue").await.click().await.unwrap();
    assert_eq!(wait_for_text(client, "plan-resource", |_| true).await, url);
    let issuer = server.auth_issuer.trim_end_matches('/');
    wait_for_text(client, "plan-server", |t| t.trim_end_matches('/') == issuer).await;
    assert_eq!(wait_for_text(client, "plan-scopes", |_| true).await.trim(), "mcp:tools");
    wait_for_text(client, "plan-identity", |_| true).await
}

/// The example server's URL is short; a hosted server's, with a tenant and a path, may
/// not be. Put in its place, it wraps inside the row instead of widening the page.
async fn a_long_url_wraps_in_its_row(client: &Client) {
    let script = "
        const shown = document.querySelector('[data-testid=connection-resource]');
        const before = shown.textContent;
        shown.textContent = 'https://mcp.example.com/tenants/' + '0123456789abcdef'.repeat(8) + '/mcp';
        const row = shown.closest('[data-testid=connection-row]');
        const fits = [row.scrollWidth <= row.clientWidth, document.documentElement.scrollWidth <= document.documentElement.clientWidth];
        return [before, fits];";
    let [before, fits]: [serde_json::Value; 2] =
        serde_json::from_value(client.execute(script, vec![]).await.unwrap()).unwrap();
    screenshot(client, "mcp-row-long-url").await;
    assert_eq!(fits, serde_json::json!([true, true]), "a long URL widened the row or the page");
    client
        .execute(
            "document.querySelector('[data-testid=connection-resource]').textContent = arguments[0];",
            vec![before],
        )
        .await
        .unwrap();
}

/// The detail view's snippet for Claude Desktop and Claude Code, and Copy; returns the
/// connection's id, which the snippet launches the bridge with.
async fn the_detail_view_gives_the_snippet(client: &Client, scheme: &str) -> String {
    let script = "return document.querySelector('[data-testid=connection-row]').dataset.connectionId";
    let id = client.execute(script, vec![]).await.unwrap().as_str().unwrap().to_owned();
    find(client, "connection-open").await.click().await.unwrap();
    let snippet = wait_for_text(client, "ai-client-snippet", |_| true).await;
    let config: serde_json::Value = serde_json::from_str(&snippet).unwrap();
    let bridge = &config["mcpServers"]["example-mcp"];
    assert_eq!(bridge["args"], serde_json::json!(["mcp", "bridge", id]), "{snippet}");
    // The CLI beside the app by its full path, else by name.
    assert!(bridge["command"].as_str().unwrap().ends_with("grantkeeper"), "{snippet}");
    let place = wait_for_text(client, "ai-client-place", |_| true).await;
    assert!(place.contains("claude_desktop_config.json"), "{place}");
    find(client, "ai-client-copy").await.click().await.unwrap();
    wait_for_text(client, "ai-client-copy", |t| t == "Copied").await;
    scroll_to(client, "ai-client").await;
    screenshot(client, &format!("mcp-detail-{scheme}")).await;

    find(client, "ai-client-claude-code").await.click().await.unwrap();
    let command = format!("mcp bridge {id}");
    wait_for_text(client, "ai-client-snippet", |t| t.starts_with("claude mcp add") && t.ends_with(&command))
        .await;
    find(client, "detail-back").await.click().await.unwrap();
    id
}

/// Scrolls the element with this test id to the bottom of the window, for a screenshot of all of it.
async fn scroll_to(client: &Client, id: &str) {
    let script = "document.querySelector(arguments[0]).scrollIntoView({ block: 'end' });";
    client.execute(script, vec![serde_json::json!(by_test_id(id))]).await.unwrap();
}

/// The token agent in the real app: a program (this test, over the app's socket) asks
/// for a connection's token; a notification says so, the window asks, Allow always is
/// clicked, the program gets the token, and the connection lists it until revoked.
#[tokio::test]
async fn a_program_asking_for_a_token_is_allowed_in_the_window() {
    let setup = Setup::new().await;
    let server = McpExample::start(false);
    let notifications = NotificationServer::start();
    let driver = setup.driver(BrowserMode::Consent);
    let client = driver.launch().await;
    add_by_url_shows_the_plan(&client, &server).await;
    find(&client, "add-url-sign-in").await.click().await.unwrap();
    wait_for_text(&client, "connection-status", |t| t == "Active").await;

    let socket = grantkeeper_engine::agent::address(setup.home());
    let asking = tokio::spawn(async move {
        let asked =
            grantkeeper_engine::agent::client::request_token(&socket, "Example MCP", Duration::ZERO, &[]);
        asked.await.map(|handed| handed.map(|(_, token)| token.expose().to_owned()))
    });
    let me = std::env::current_exe().unwrap();
    let name = me.file_name().unwrap().to_string_lossy().into_owned();
    let question =
        wait_for_text(&client, "consent-request", |t| t.contains("wants your Example MCP token")).await;
    assert!(question.contains(&name) && question.contains(&me.display().to_string()), "{question}");
    let seen = notifications.wait_for(&format!("{name} wants a token"));
    assert!(seen.iter().any(|n| n.body.contains("wants your Example MCP token")), "{seen:?}");
    screenshot(&client, "consent-request").await;
    find(&client, "consent-allow-always").await.click().await.unwrap();
    let token = asking.await.unwrap().unwrap().expect("the app answered");
    assert!(!token.is_empty());
    assert!(text_of(&client, "consent-request").await.is_none(), "answered, the question goes");
    // And so does its notification from the desktop's list.
    notifications.wait_until_withdrawn(&format!("{name} wants a token"));
    // The row says who used it (once the card above it went: WebKitGTK 2.50 left a row
    // with `content-visibility: auto` unpainted after such a shift).
    let used = wait_for_text(&client, "connection-used", |t| t.starts_with("Used by")).await;
    assert!(used.starts_with(&format!("Used by {name} · ")), "{used}");

    activate(&client, "connection-open").await;
    let allowed = wait_for_text(&client, "allowed-program", |t| t.contains(&name)).await;
    assert!(allowed.contains("used"), "{allowed}");
    scroll_to(&client, "connection-programs").await;
    screenshot(&client, "connection-programs").await;
    find(&client, "revoke-program").await.click().await.unwrap();
    wait_for_text(&client, "allowed-programs", |t| t.contains("No program is allowed always")).await;
    find(&client, "consent-policy-never_ask").await.click().await.unwrap();
    a_crashed_app_is_started_again_by_the_next_token(&setup, "Example MCP").await;
}

/// The app is killed; `grantkeeper token` then starts it again in the background and
/// gets the token from it (the connection never asks, so nobody has to answer).
async fn a_crashed_app_is_started_again_by_the_next_token(setup: &Setup, connection: &str) {
    let cli = Path::new(env!("CARGO_BIN_EXE_grantkeeper-app")).with_file_name("grantkeeper");
    assert!(cli.exists(), "the CLI is built beside the app: cargo build -p grantkeeper-cli");
    let socket = grantkeeper_engine::agent::address(setup.home());
    let run = |args: &[&str]| {
        Command::new(&cli)
            .args(args)
            .env("GRANTKEEPER_HOME", setup.home())
            .env("GRANTKEEPER_KEYCHAIN_SERVICE", &setup.service)
            .env("XDG_CONFIG_HOME", setup.home().join("config"))
            .env_remove("GRANTKEEPER_NO_AGENT")
            .output()
            .unwrap()
    };
    // The policy the window set is saved before the app goes.
    poll(WAIT, Duration::from_millis(100), async || {
        let listed: serde_json::Value = serde_json::from_slice(&run(&["list", "--json"]).stdout).unwrap();
        if listed[0]["consent"] == "never_ask" {
            Ok(())
        } else {
            Err(listed.to_string())
        }
    })
    .await;
    let crashed = app_serving(&socket).await.expect("the app serves the agent");
    assert!(Command::new("kill").args(["-KILL", &crashed.to_string()]).status().unwrap().success());
    while app_serving(&socket).await.is_some() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let handed = run(&["token", connection]);
    let restarted = app_serving(&socket).await;
    let started =
        restarted.map(|pid| std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default());
    if let Some(pid) = restarted {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    assert!(handed.status.success(), "{handed:?}");
    assert!(!String::from_utf8_lossy(&handed.stdout).trim().is_empty());
    assert_ne!(restarted.expect("the app was started again"), crashed);
    let started = started.unwrap_or_default();
    assert!(started.contains("--background"), "started in the tray only: {started:?}");
}

/// The pid of the app serving the token agent at `socket`, from the socket's peer.
async fn app_serving(socket: &Path) -> Option<i32> {
    let stream = tokio::net::UnixStream::connect(socket).await.ok()?;
    stream.peer_cred().ok()?.pid()
}
