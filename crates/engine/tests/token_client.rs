//! The token client against a token endpoint that misbehaves at the HTTP level: a
//! gzip bomb, an answer that stalls half way, a redirect. Each ends the sign-in with a
//! clean error and keeps nothing. The endpoint is a raw HTTP server in this test, so
//! each answer is exactly the bytes written below.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Setup;
use grantkeeper_engine::api::ConnectOptions;
use grantkeeper_engine::{Engine, NewProvider};
use grantkeeper_test_support::secret_tool_keys;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod common;

/// 64 MiB of zeros, gzipped to about 64 KB.
fn gzip_bomb() -> Vec<u8> {
    let mut gzip = Command::new("gzip")
        .arg("-9c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip is installed");
    let mut input = gzip.stdin.take().unwrap();
    std::thread::spawn(move || input.write_all(&vec![0u8; 64 << 20]).unwrap());
    gzip.wait_with_output().unwrap().stdout
}

/// A token endpoint that reads one request and answers with `head` and `body`, then
/// keeps the connection open for `stall`.
async fn token_endpoint(head: String, body: Vec<u8>, stall: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (head, body) = (head.clone(), body.clone());
            tokio::spawn(async move {
                let mut request = vec![0u8; 16 * 1024];
                let _ = stream.read(&mut request).await;
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                tokio::time::sleep(stall).await;
            });
        }
    });
    url
}

/// How a sign-in against an odd token endpoint ended.
struct Ended {
    error: String,
    /// From the callback to the end of the sign-in: the code exchange.
    took: Duration,
    engine: Arc<Engine>,
    setup: Setup,
}

impl Ended {
    fn assert_nothing_kept(&self) {
        assert!(self.engine.connections().unwrap().is_empty(), "no connection");
        assert!(secret_tool_keys(&self.setup.service).is_empty(), "nothing in the keychain");
    }
}

/// Starts a sign-in with a provider whose token endpoint is `token_url` and completes
/// its callback as the browser would.
async fn sign_in_against(token_url: &str) -> Ended {
    let setup = Setup::new();
    let engine = setup.engine_opening_no_browser();
    let provider = NewProvider {
        name: "Odd Provider".into(),
        authorize_url: Some("http://127.0.0.1:9/authorize".into()),
        token_url: Some(token_url.into()),
        client_id: "grantkeeper-test".into(),
        ..NewProvider::default()
    };
    engine.add_provider(provider).await.unwrap();
    let pending = engine.connect("Odd Provider", ConnectOptions::default()).await.unwrap();
    let common::Started { state, port, .. } = common::started(&pending.started);
    let exchange = Instant::now();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(stream, "GET /callback?code=the-code&state={state} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        let _ = stream.read_to_end(&mut Vec::new());
    });
    let error = match pending.outcome.await.unwrap() {
        Ok(connection) => panic!("the sign-in succeeded: {connection:?}"),
        Err(error) => error.to_string(),
    };
    Ended { error, took: exchange.elapsed(), engine, setup }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_a_clean_error() {
    let bomb = gzip_bomb();
    assert!(bomb.len() < 1024 * 1024, "the bomb itself is small: {} bytes", bomb.len());
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        bomb.len()
    );
    let token_url = token_endpoint(head, bomb, Duration::ZERO).await;
    let ended = sign_in_against(&token_url).await;
    assert!(ended.error.contains("Odd Provider"), "the error names the provider: {}", ended.error);
    ended.assert_nothing_kept();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_stalls_half_way_times_out() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n".to_owned();
    let token_url =
        token_endpoint(head, br#"{"access_token":"canary-stall"#.to_vec(), Duration::from_secs(300)).await;
    let ended = sign_in_against(&token_url).await;
    assert!(ended.took < Duration::from_secs(60), "the client gave up on its own: {:?}", ended.took);
    assert!(!ended.error.contains("canary-stall"), "{}", ended.error);
    ended.assert_nothing_kept();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_redirects_is_not_followed() {
    let elsewhere = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let head = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{}/token\r\nContent-Length: 0\r\n\r\n",
        elsewhere.local_addr().unwrap()
    );
    let token_url = token_endpoint(head, Vec::new(), Duration::ZERO).await;
    let ended = sign_in_against(&token_url).await;
    let followed = tokio::time::timeout(Duration::from_millis(500), elsewhere.accept()).await;
    assert!(followed.is_err(), "the code was not carried to the redirect's target");
    ended.assert_nothing_kept();
}
