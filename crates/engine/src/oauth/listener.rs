//! The loopback redirect listener (RFC 8252 §7.3): bound to 127.0.0.1 on an ephemeral
//! port, it waits for the one callback that carries this flow's `state`, answers stray
//! requests without ending the flow, and closes when dropped.

use std::collections::HashMap;
use std::time::Duration;

use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use url::Url;

use crate::{Error, Result, Secret};

pub const CALLBACK_PATH: &str = "/callback";
const HEAD_LIMIT: usize = 8 * 1024;
/// Browsers open speculative connections that never send a request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS: usize = 8;

/// A fixed port (a provider that compares the redirect URI exactly) can be taken for a
/// moment by a short-lived connection that happened to get it as its local port; try
/// again for a couple of seconds before telling the person it is in use.
async fn bind_loopback(port: u16) -> std::io::Result<TcpListener> {
    let mut attempts = if port == 0 { 1 } else { 10 };
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && attempts > 1 => {
                attempts -= 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            result => return result,
        }
    }
}

pub struct CallbackListener {
    /// 127.0.0.1, and [::1] on the same port when the redirect URI says `localhost`
    /// (a browser may try either address for that name).
    listeners: Vec<TcpListener>,
    redirect_uri: Url,
}

/// What the provider sent back, once the state matched.
pub enum Callback {
    Code(Secret),
    Error { error: String, description: Option<String> },
}

impl CallbackListener {
    /// Binds loopback only. `host` is the name the redirect URI uses (`127.0.0.1` or
    /// `localhost`); `port` a fixed port for providers that match it exactly, else
    /// any free one.
    pub async fn bind(host: &str, port: Option<u16>) -> Result<Self> {
        let listener = bind_loopback(port.unwrap_or(0)).await.map_err(|e| {
            let address = format!("127.0.0.1:{}", port.unwrap_or(0));
            Error::CallbackUnavailable { address, reason: e.to_string() }
        })?;
        let port = listener.local_addr().map_err(|e| Error::Internal(e.to_string()))?.port();
        let mut listeners = vec![listener];
        if host == "localhost" {
            // Best effort: a machine without IPv6 still has 127.0.0.1.
            if let Ok(v6) = TcpListener::bind(("::1", port)).await {
                listeners.push(v6);
            }
        }
        let redirect_uri = Url::parse(&format!("http://{host}:{port}{CALLBACK_PATH}")).expect("valid URL");
        Ok(CallbackListener { listeners, redirect_uri })
    }

    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Waits for the callback whose `state` matches. `expected_issuer` is checked
    /// against an RFC 9207 `iss` parameter when the provider sends one.
    pub async fn wait(self, state: &str, expected_issuer: Option<&str>) -> Result<Callback> {
        let (found_tx, mut found_rx) = mpsc::channel::<(HashMap<String, Vec<String>>, TcpStream)>(1);
        let permits = std::sync::Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            tokio::select! {
                accepted = accept_any(&self.listeners) => {
                    let Ok((stream, _)) = accepted else { continue };
                    let Ok(permit) = permits.clone().try_acquire_owned() else { continue };
                    let found_tx = found_tx.clone();
                    let state = state.to_owned();
                    tokio::spawn(async move {
                        let _permit = permit;
                        if let Some(found) = screen(stream, &state).await {
                            let _ = found_tx.send(found).await;
                        }
                    });
                }
                Some((params, mut stream)) = found_rx.recv() => {
                    let outcome = outcome(&params, expected_issuer);
                    let page = match &outcome {
                        Ok(Callback::Code(_)) => page("You're signed in", "Return to Grantkeeper; you can close this tab."),
                        Ok(Callback::Error { error, .. }) if error == "access_denied" =>
                            page("Access declined", "Nothing was saved. Return to Grantkeeper to try again."),
                        _ => page("Sign-in failed", "Return to Grantkeeper to see what happened."),
                    };
                    let _ = respond(&mut stream, "200 OK", &page).await;
                    return outcome;
                }
            }
        }
    }
}

async fn accept_any(listeners: &[TcpListener]) -> std::io::Result<(TcpStream, std::net::SocketAddr)> {
    match listeners {
        [only] => only.accept().await,
        [v4, v6, ..] => tokio::select! {
            accepted = v4.accept() => accepted,
            accepted = v6.accept() => accepted,
        },
        [] => std::future::pending().await,
    }
}

/// Reads one request; answers anything that is not this flow's callback and returns
/// the query of the one that is. Generic over the stream for the fuzz targets.
async fn screen<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    state: &str,
) -> Option<(HashMap<String, Vec<String>>, S)> {
    const LISTENER: &str = "This is Grantkeeper's sign-in listener.";
    let target = match tokio::time::timeout(READ_TIMEOUT, read_request_target(&mut stream)).await {
        Ok(Ok(target)) => target,
        Ok(Err(status)) => return refuse(stream, status, "Bad request", LISTENER).await,
        Err(_) => return refuse(stream, "408 Request Timeout", "Request timed out", LISTENER).await,
    };
    let url = Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != CALLBACK_PATH {
        return refuse(stream, "404 Not Found", "Not found", LISTENER).await;
    }
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in url.query_pairs() {
        params.entry(key.into_owned()).or_default().push(value.into_owned());
    }
    let state_matches = matches!(params.get("state").map(Vec::as_slice), Some([given]) if bool::from(given.as_bytes().ct_eq(state.as_bytes())));
    if !state_matches {
        let text = "This link does not belong to the sign-in Grantkeeper is waiting for.";
        return refuse(stream, "400 Bad Request", "Not this sign-in", text).await;
    }
    Some((params, stream))
}

/// The request target of a `GET`, or the status line to refuse it with.
async fn read_request_target(
    stream: &mut (impl AsyncRead + Unpin),
) -> std::result::Result<String, &'static str> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await.map_err(|_| "400 Bad Request")?;
        if read == 0 {
            return Err("400 Bad Request");
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buffer) {
            Ok(httparse::Status::Complete(_)) => {
                if request.method != Some("GET") {
                    return Err("405 Method Not Allowed");
                }
                return request.path.map(str::to_owned).ok_or("400 Bad Request");
            }
            Ok(httparse::Status::Partial) if buffer.len() < HEAD_LIMIT => continue,
            Ok(httparse::Status::Partial) => return Err("431 Request Header Fields Too Large"),
            Err(_) => return Err("400 Bad Request"),
        }
    }
}

/// The fuzz targets' way in (see `crate::fuzzing`): what `wait` does with one
/// connection that sends `request` and then closes, with no socket.
#[cfg(feature = "fuzzing")]
impl CallbackListener {
    /// The bytes the listener answers with (none for this flow's callback, which `wait`
    /// answers once the outcome is known), and the outcome when it is that callback.
    pub(crate) fn screen_request(
        request: &[u8],
        state: &str,
        expected_issuer: Option<&str>,
    ) -> (Vec<u8>, Option<Result<Callback>>) {
        thread_local! {
            static RUNTIME: tokio::runtime::Runtime =
                tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        }
        let mut stream = tokio::io::join(request, Vec::new());
        let found = RUNTIME.with(|runtime| runtime.block_on(screen(&mut stream, state)));
        let outcome = found.map(|(params, _)| outcome(&params, expected_issuer));
        (stream.into_inner().1, outcome)
    }
}

fn outcome(params: &HashMap<String, Vec<String>>, expected_issuer: Option<&str>) -> Result<Callback> {
    let single = |key: &str| params.get(key).and_then(|values| values.first()).cloned();
    if let (Some(expected), Some(iss)) = (expected_issuer, single("iss")) {
        if iss.trim_end_matches('/') != expected.trim_end_matches('/') {
            return Err(Error::ProviderError {
                provider: "The sign-in response".into(),
                detail: "it came from a different issuer than the provider you chose (RFC 9207); nothing was saved".into(),
            });
        }
    }
    if let Some(error) = single("error") {
        return Ok(Callback::Error { error, description: single("error_description") });
    }
    match single("code") {
        Some(code) if !code.is_empty() => Ok(Callback::Code(Secret::new(code))),
        _ => Err(Error::ProviderError {
            provider: "The provider".into(),
            detail: "it redirected back without an authorization code".into(),
        }),
    }
}

fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{title} – Grantkeeper</title>\
         <style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}</style>\
         <h1>{title}</h1><p>{text}</p></html>"
    )
}

/// Answers a request that is not this flow's callback with an error page.
async fn refuse<S: AsyncWrite + Unpin, T>(mut stream: S, status: &str, title: &str, text: &str) -> Option<T> {
    let _ = respond(&mut stream, status, &page(title, text)).await;
    None
}

async fn respond(stream: &mut (impl AsyncWrite + Unpin), status: &str, body: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
