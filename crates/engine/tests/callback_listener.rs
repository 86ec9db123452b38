//! The loopback listener under stray and hostile requests: only this flow's callback
//! ends the flow; everything else gets an error page and the flow keeps waiting.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{started, use_emulator, Setup};
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::credential::connect::PendingFlow;
use grantkeeper_engine::{Engine, Error, NewProvider};
use grantkeeper_test_support::{OidcProvider, ProviderEmulator};

mod common;

fn send(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn get(port: u16, target: &str) -> String {
    send(port, &format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"))
}

/// What the provider emulator redirects the browser to once it consents: the callback's
/// path and query, for the test to deliver to the listener itself.
async fn consent(authorize: &url::Url) -> String {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let consented = client.get(authorize.as_str()).send().await.unwrap();
    let location = consented.headers()["location"].to_str().unwrap().to_owned();
    let callback = url::Url::parse(&location).unwrap();
    assert_eq!(callback.host_str(), Some("localhost"), "{location}");
    format!("{}?{}", callback.path(), callback.query().unwrap())
}

/// An engine that opens no browser, with the test provider added as "Local OP".
async fn engine_with_local_op_and_no_browser() -> (OidcProvider, Setup, Arc<Engine>) {
    let op = OidcProvider::start();
    let setup = Setup::new();
    let engine = setup.engine_opening_no_browser();
    let provider = NewProvider {
        name: "Local OP".into(),
        issuer: Some(op.issuer.clone()),
        client_id: "grantkeeper-test".into(),
        scopes: vec!["openid".into()],
        ..NewProvider::default()
    };
    engine.add_provider(provider).await.unwrap();
    (op, setup, engine)
}

/// A sign-in to Outlook (Microsoft's redirect is `http://localhost`) at the emulator,
/// waiting for a callback nobody has opened a browser for.
async fn outlook_sign_in_without_a_browser() -> (ProviderEmulator, Setup, Arc<Engine>, PendingFlow) {
    let emulator = ProviderEmulator::start();
    let setup = Setup::new();
    let engine = setup.engine_opening_no_browser();
    use_emulator(&engine, &emulator, "microsoft", false).await;
    let pending = engine.connect("outlook-mail", ConnectOptions::default()).await.unwrap();
    (emulator, setup, engine, pending)
}

/// The flow ended with nothing of it kept: no token request reached the provider
/// (`why` says what that means here) and no connection was saved.
async fn assert_nothing_redeemed(op: &OidcProvider, engine: &Engine, why: &str) {
    assert_eq!(op.stats().await.token_requests.values().sum::<u64>(), 0, "{why}");
    assert!(engine.connections().unwrap().is_empty());
}

// Blocking socket calls below: the engine needs another thread to answer them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stray_requests_do_not_end_the_flow_and_only_the_right_state_is_redeemed() {
    let (op, _home, engine) = engine_with_local_op_and_no_browser().await;
    let mut pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
    let common::Started { authorize, state, port, .. } = started(&pending.started);
    assert!(state.len() >= 22, "state carries at least 128 bits: {state}");
    let method =
        authorize.query_pairs().find(|(k, _)| k == "code_challenge_method").map(|(_, v)| v.into_owned());
    assert_eq!(method.as_deref(), Some("S256"));

    let favicon = get(port, "/favicon.ico");
    assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
    assert!(favicon.contains("Content-Security-Policy: default-src 'none'"));
    assert!(favicon.contains("Cache-Control: no-store") && favicon.contains("Referrer-Policy: no-referrer"));
    let post = send(port, "POST /callback?code=x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    let wrong_state = get(port, "/callback?code=stolen&state=not-the-state");
    assert!(wrong_state.starts_with("HTTP/1.1 400"), "{wrong_state}");
    let twice = get(port, &format!("/callback?code=x&state={state}&state={state}"));
    assert!(twice.starts_with("HTTP/1.1 400"), "a duplicated state is refused: {twice}");
    let garbage = send(port, "\x16\x03\x01 not http at all\r\n\r\n");
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
    let huge = get(port, &format!("/callback?state={state}&pad={}", "a".repeat(9000)));
    assert!(huge.starts_with("HTTP/1.1 431"), "{}", &huge[..huge.len().min(80)]);
    assert!(pending.outcome.try_recv().is_err(), "the flow is still waiting");
    assert_eq!(op.stats().await.token_requests.values().sum::<u64>(), 0, "no token request was made");

    // The matching callback ends the flow; this code is bogus, so the provider refuses it.
    let answer = get(port, &format!("/callback?code=bogus&state={state}&iss={}", op.issuer));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let error = pending.outcome.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::ProviderError { .. }), "{error:?}");
    assert!(error.to_string().contains("invalid_grant"), "{error}");
    assert_eq!(op.stats().await.token_requests.get("authorization_code"), Some(&1));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the listener closed");
    assert!(engine.connections().unwrap().is_empty());
}

/// RFC 9207: a callback with the right state but another issuer's `iss` (a mix-up
/// attack) ends the flow with an error and no token request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_from_another_issuer_is_refused_before_any_token_request() {
    let (op, _home, engine) = engine_with_local_op_and_no_browser().await;
    let pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
    let common::Started { state, port, .. } = started(&pending.started);

    get(port, &format!("/callback?code=stolen&state={state}&iss=https%3A%2F%2Fevil.example"));
    let error = pending.outcome.await.unwrap().unwrap_err();
    assert!(error.to_string().contains("different issuer"), "{error}");
    assert_nothing_redeemed(&op, &engine, "the code was not redeemed").await;
}

/// GitHub names itself in every authorization response (`https://github.com/login/oauth`,
/// the catalog's issuer): its callback with another issuer's `iss` put in (a mix-up)
/// is refused before the code is redeemed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_callback_naming_another_issuer_is_refused() {
    let emulator = ProviderEmulator::start();
    let setup = Setup::new();
    let engine = setup.engine_opening_no_browser();
    use_emulator(&engine, &emulator, "github", true).await;
    let pending = engine.connect("github", ConnectOptions::default()).await.unwrap();
    let common::Started { authorize, port, .. } = started(&pending.started);

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let consented = client.get(authorize.as_str()).send().await.unwrap();
    let location = consented.headers()["location"].to_str().unwrap().to_owned();
    let github = "iss=https%3A%2F%2Fgithub.com%2Flogin%2Foauth";
    assert!(location.contains(github), "GitHub names itself: {location}");
    let callback = url::Url::parse(&location.replace(github, "iss=https%3A%2F%2Fevil.example")).unwrap();
    get(port, &format!("{}?{}", callback.path(), callback.query().unwrap()));

    let error = pending.outcome.await.unwrap().unwrap_err();
    assert!(error.to_string().contains("different issuer"), "{error}");
    let log = emulator.log().await;
    assert!(!log.iter().any(|r| r["path"] == "/github/token"), "the code was not redeemed");
    assert!(engine.connections().unwrap().is_empty());
}

/// RFC 6749 §4.1.2.1: an `error=` callback ends the flow only with this flow's state;
/// the provider's description reaches the person as one capped line of text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_callback_counts_only_with_this_flow_s_state() {
    let (op, _home, engine) = engine_with_local_op_and_no_browser().await;
    let mut pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
    let common::Started { state, port, .. } = started(&pending.started);

    let forged = get(port, "/callback?error=access_denied&state=someone-else");
    assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
    let no_state = get(port, "/callback?error=server_error");
    assert!(no_state.starts_with("HTTP/1.1 400"), "{no_state}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(pending.outcome.try_recv().is_err(), "the flow is still waiting");

    let description = format!("<script>alert(1)</script>\r\nLine two {}", "x".repeat(2000));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "temporarily_unavailable")
        .append_pair("error_description", &description)
        .append_pair("state", &state)
        // RFC 9207: the test provider names itself in error responses too.
        .append_pair("iss", &op.issuer)
        .finish();
    let answer = get(port, &format!("/callback?{query}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains("<script>"), "the browser page does not repeat the provider's text");
    let error = pending.outcome.await.unwrap().unwrap_err();
    let message = error.to_string();
    assert!(message.contains("temporarily_unavailable"), "{message}");
    assert!(!message.contains('\n') && !message.contains('\r'), "one line: {message}");
    assert!(message.chars().count() < 600, "capped: {} characters", message.chars().count());
    assert_nothing_redeemed(&op, &engine, "no token request was made").await;
}

/// Connections that never finish a request (slowloris, a browser's speculative
/// connections) cannot end the flow or hold the listener: others are answered while they
/// wait, each is answered 408 after the head deadline, and the callback then works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_are_timed_out_and_the_flow_goes_on() {
    let (_op, _home, engine) = engine_with_local_op_and_no_browser().await;
    let mut pending = engine.connect("Local OP", ConnectOptions::default()).await.unwrap();
    let common::Started { state, port, .. } = started(&pending.started);

    let mut stalled: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream.write_all(b"GET /callback?state=").unwrap();
            stream
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ninth = get(port, "/callback?code=x&state=y");
    assert!(ninth.starts_with("HTTP/1.1 400"), "a request is answered while others stall: {ninth}");

    for stream in &mut stalled {
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "a stalled request is answered 408: {answer}");
    }
    assert!(pending.outcome.try_recv().is_err(), "the flow is still waiting");
    let answer = get(port, &format!("/callback?code=bogus&state={state}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(pending.outcome.await.unwrap().is_err(), "the bogus code was refused by the provider");
}

/// RFC 8252 §7.3/§8.3: for a provider that wants `http://localhost` (Microsoft), the
/// listener takes the same port on 127.0.0.1 and [::1] — a browser may resolve the name
/// to either — and on no other interface; a callback through [::1] completes sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localhost_redirects_listen_on_both_loopbacks_and_nowhere_else() {
    let (_emulator, _setup, _engine, pending) = outlook_sign_in_without_a_browser().await;
    let common::Started { authorize, redirect, port, .. } = started(&pending.started);
    assert_eq!(redirect.host_str(), Some("localhost"));

    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok(), "listening on 127.0.0.1");
    assert!(TcpStream::connect(("::1", port)).is_ok(), "listening on [::1]");
    // The address this machine reaches the network from (no packet is sent).
    let outward = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| socket.connect("192.0.2.1:9").and_then(|()| socket.local_addr()))
        .map(|address| address.ip());
    // A machine with no network has none; then there is nothing else to listen on.
    if let Some(ip) = outward.ok().filter(|ip| !ip.is_loopback()) {
        assert!(TcpStream::connect((ip, port)).is_err(), "not listening on {ip}");
    }

    // The provider consents at once and redirects; the browser here goes through [::1].
    let target = consent(&authorize).await;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("::1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(stream, "GET {target} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let connection = pending.outcome.await.unwrap().unwrap();
    assert_eq!(connection.account.as_deref(), Some("ada@example.test"));
    assert!(TcpStream::connect(("::1", port)).is_err(), "both listeners closed");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "both listeners closed");
}

/// The emulated `provider` with a provider app, an engine whose browser only creates a
/// file, and that file: whether it exists says whether the engine opened a browser.
async fn engine_marking_browser_opens(provider: &str) -> (ProviderEmulator, Setup, Arc<Engine>, PathBuf) {
    let (emulator, setup) = (ProviderEmulator::start(), Setup::new());
    let opened = setup.home.path().join("browser-opened");
    let browser = format!("sh -c 'touch \"$0\"' {}", opened.display());
    let engine = setup.engine_opening(grantkeeper_engine::oauth::Browser::Commands(vec![browser]));
    use_emulator(&engine, &emulator, provider, true).await;
    (emulator, setup, engine, opened)
}

/// The sign-in that started opened the browser (within 5 s); cancelled, it ends so.
async fn browser_opened_then_cancel(engine: &Engine, pending: PendingFlow, opened: &Path) {
    for _ in 0..50 {
        if opened.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(opened.exists(), "the browser opened for the sign-in that started");
    engine.cancel_flow(&pending.started.flow_id).unwrap();
    assert!(matches!(pending.outcome.await.unwrap(), Err(Error::FlowCancelled)));
}

/// Starts a sign-in at `integration` whose callback port another program holds: it must
/// be refused with `CallbackUnavailable`; its message.
async fn callback_unavailable(engine: &Arc<Engine>, integration: &str) -> String {
    let refused =
        engine.connect(integration, ConnectOptions::default()).await.err().expect("no sign-in starts");
    assert!(matches!(refused, Error::CallbackUnavailable { .. }), "{refused:?}");
    refused.to_string()
}

/// A provider that compares the redirect URI exactly (Slack) gets a fixed port. When
/// another program holds it, the sign-in does not start: no browser opens, and the error
/// names the address and says what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_callback_port_opens_no_browser_and_says_so() {
    let (_emulator, _setup, engine, opened) = engine_marking_browser_opens("slack").await;
    let _holder = listener_on(([127, 0, 0, 1], 53117).into()).await;

    let message = callback_unavailable(&engine, "slack").await;
    assert!(message.contains("127.0.0.1:53117") && message.contains("close it and try again"), "{message}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!opened.exists(), "no browser was opened");
    assert!(engine.connections().unwrap().is_empty());
}

/// The same for a `localhost` redirect (Notion, which has no PKCE) when another program
/// holds the port on [::1] only: a browser tries [::1] first for that name and would
/// hand that program the code and state, so no sign-in starts and nothing is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_localhost_port_held_on_ipv6_starts_no_sign_in() {
    let (_emulator, _setup, engine, opened) = engine_marking_browser_opens("notion").await;
    let holder = listener_on((std::net::Ipv6Addr::LOCALHOST, 53138).into()).await;

    let message = callback_unavailable(&engine, "notion").await;
    assert!(message.contains("[::1]:53138") && message.contains("close it and try again"), "{message}");
    #[cfg(target_os = "linux")]
    assert!(message.contains(&format!("pid {}", std::process::id())), "names the holder: {message}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!opened.exists(), "no browser was opened");
    assert!(TcpStream::connect(("127.0.0.1", 53138)).is_err(), "nothing listens on 127.0.0.1");
    assert!(engine.connections().unwrap().is_empty());

    // No flow was left holding anything: with the port free again, a sign-in starts
    // (and then the browser opens).
    drop(holder);
    let pending = engine.connect("notion", ConnectOptions::default()).await.unwrap();
    browser_opened_then_cancel(&engine, pending, &opened).await;
}

/// A fixed callback port is in the range the system gives outgoing connections, so a
/// connection that just closed may hold it (TIME_WAIT, up to a minute on Linux). Nothing
/// is wrong then: the sign-in waits for the system to free the port and starts.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_port_held_by_a_closing_connection_is_waited_for() {
    let (_emulator, _setup, engine, opened) = engine_marking_browser_opens("atlassian").await;

    // A connection from 127.0.0.1:53152 (Atlassian's port) that closes first, so its end
    // is left in TIME_WAIT.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = outgoing_socket_on(53152).await;
    let client = client.connect(server.local_addr().unwrap()).await.unwrap();
    let (mut accepted, _) = server.accept().unwrap();
    drop(client);
    accepted.read_exact(&mut [0]).unwrap_err();
    drop(accepted);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", 53152)).is_err(),
        "the closing connection holds the port"
    );

    let pending =
        engine.connect("jira", ConnectOptions::default()).await.expect("the sign-in starts once freed");
    let authorize = url::Url::parse(&pending.started.authorize_url).unwrap();
    let redirect =
        authorize.query_pairs().find(|(name, _)| name == "redirect_uri").map(|(_, uri)| uri.into_owned());
    assert_eq!(redirect.as_deref(), Some("http://localhost:53152/callback"));
    browser_opened_then_cancel(&engine, pending, &opened).await;
}

/// What `take` takes of a fixed port, once the port is free: a connection of an earlier
/// test that got it as its local port may hold it for up to a minute after closing,
/// the very case tested above.
async fn once_free<T>(port: u16, mut take: impl FnMut() -> std::io::Result<T>) -> T {
    for _ in 0..140 {
        if let Ok(taken) = take() {
            return taken;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("port {port} stayed taken for 70 s");
}

/// Another program's listener on `address`.
async fn listener_on(address: SocketAddr) -> std::net::TcpListener {
    once_free(address.port(), || std::net::TcpListener::bind(address)).await
}

/// A socket on 127.0.0.1:`port` set up as an outgoing connection's (no SO_REUSEADDR).
#[cfg(target_os = "linux")]
async fn outgoing_socket_on(port: u16) -> tokio::net::TcpSocket {
    once_free(port, || {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(([127, 0, 0, 1], port).into())?;
        Ok(socket)
    })
    .await
}

/// Idle connections (a browser's speculative ones, or another local user's trying to
/// starve the listener) cannot keep the callback out: the listener reads many at once,
/// drops the oldest for a newcomer beyond its cap, and closes the rest after a short
/// deadline for the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_do_not_keep_the_callback_out() {
    let (_emulator, _setup, _engine, pending) = outlook_sign_in_without_a_browser().await;
    let common::Started { authorize, port, .. } = started(&pending.started);
    let target = consent(&authorize).await;

    let idle: Vec<TcpStream> = (0..16).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = tokio::task::spawn_blocking(move || get(port, &target)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "the callback got through: {answer}");
    let outcome = tokio::time::timeout(Duration::from_secs(20), pending.outcome).await;
    let connection = outcome.expect("the sign-in completes").unwrap().unwrap();
    assert_eq!(connection.account.as_deref(), Some("ada@example.test"));

    let answers =
        tokio::task::spawn_blocking(move || idle.into_iter().map(answer_until_closed).collect::<Vec<_>>())
            .await
            .unwrap();
    let dropped = answers.iter().filter(|answer| answer.is_empty()).count();
    assert!(dropped >= 1, "the oldest idle connection made room for the callback: {answers:?}");
    for answer in answers.iter().filter(|answer| !answer.is_empty()) {
        assert!(answer.starts_with("HTTP/1.1 408"), "an idle connection is answered 408: {answer}");
    }
}

/// Everything a connection receives until the listener closes it; panics if it stays
/// open for 20 seconds.
fn answer_until_closed(mut stream: TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Err(error)
            if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
        {
            panic!("the listener left an idle connection open")
        }
        _ => String::from_utf8_lossy(&answer).into_owned(),
    }
}
