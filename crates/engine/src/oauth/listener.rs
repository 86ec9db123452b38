//! The loopback redirect listener (RFC 8252 §7.3): bound to 127.0.0.1 on an ephemeral
//! port (both loopback addresses for a `localhost` redirect), it waits for the one
//! callback that carries this flow's `state`, answers stray requests without ending
//! the flow, and closes when dropped.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use url::Url;

use super::pasted::{callback_params, is_this_flow, pasted_params, PastedAddress};
use super::port_holder::{self, Holder};
use crate::{Error, Result, Secret};

pub const CALLBACK_PATH: &str = "/callback";
const HEAD_LIMIT: usize = 8 * 1024;
/// How long a connection may take to send its request head. Browsers open speculative
/// connections that never send one, and an idle connection must not hold the listener.
const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// Connections read at once; beyond this the oldest is dropped (see `Connections`).
const MAX_CONNECTIONS: usize = 16;

/// How long a fixed port that is taken is tried again: it lies in the range the system
/// gives outgoing connections, and such a connection may hold it for a moment.
const FIXED_PORT_WAIT: Duration = Duration::from_secs(3);
/// How long it is waited for when only closing connections hold it: Linux keeps a
/// closed connection's local port for 60 s (TIME_WAIT), then frees it by itself.
const CLOSING_PORT_WAIT: Duration = Duration::from_secs(65);

/// A fixed port (a provider that compares the redirect URI exactly) can be taken for a
/// moment by a short-lived connection that happened to get it as its local port; try
/// again for a couple of seconds before telling the person it is in use.
async fn bind_loopback(address: SocketAddr, patient: bool) -> std::io::Result<TcpListener> {
    let mut attempts = if patient { 10 } else { 1 };
    loop {
        match TcpListener::bind(address).await {
            Err(error) if error.kind() == ErrorKind::AddrInUse && attempts > 1 => {
                attempts -= 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            result => return result,
        }
    }
}

/// 127.0.0.1 on `port` (0: any free one).
async fn bind_v4(port: u16) -> Result<TcpListener> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    bind_loopback(address, port != 0).await.map_err(|error| unavailable(address, &error))
}

/// Both loopback addresses on one port, for a `localhost` redirect URI: a browser may
/// send the callback to either (most try [::1] first), so a program holding the other
/// would receive the code and state. Only a system with no IPv6 loopback at all, where
/// nobody can listen on [::1], goes on with 127.0.0.1 alone.
async fn bind_localhost(fixed: Option<u16>) -> Result<Vec<TcpListener>> {
    // Without a fixed port, another free port will do.
    let mut attempts = if fixed.is_some() { 1 } else { 5 };
    loop {
        let v4 = bind_v4(fixed.unwrap_or(0)).await?;
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, local_port(&v4)?));
        match bind_loopback(v6, fixed.is_some()).await {
            Ok(listener) => return Ok(vec![v4, listener]),
            Err(error) if no_ipv6_loopback(&error) => return Ok(vec![v4]),
            Err(error) if error.kind() == ErrorKind::AddrInUse && attempts > 1 => attempts -= 1,
            Err(error) => return Err(unavailable(v6, &error)),
        }
    }
}

/// Binding [::1] fails this way only where the system has no IPv6 loopback: the address
/// is not configured (EADDRNOTAVAIL) or IPv6 is off altogether (EAFNOSUPPORT, for which
/// std has no `ErrorKind`). A port in use or a refusal is never one of these.
fn no_ipv6_loopback(error: &std::io::Error) -> bool {
    #[cfg(target_os = "linux")]
    const EAFNOSUPPORT: i32 = 97;
    #[cfg(windows)]
    const EAFNOSUPPORT: i32 = 10047; // WSAEAFNOSUPPORT
    #[cfg(not(any(target_os = "linux", windows)))]
    const EAFNOSUPPORT: i32 = 47; // macOS and the BSDs
    error.kind() == ErrorKind::AddrNotAvailable || error.raw_os_error() == Some(EAFNOSUPPORT)
}

fn local_port(listener: &TcpListener) -> Result<u16> {
    Ok(listener.local_addr().map_err(|e| Error::Internal(e.to_string()))?.port())
}

/// The error for an address the listener cannot take, naming who holds it where the
/// system tells cheaply.
fn unavailable(address: SocketAddr, error: &std::io::Error) -> Error {
    let holder = (error.kind() == ErrorKind::AddrInUse).then(|| port_holder::of(address)).flatten();
    let reason = holder.map_or_else(|| error.to_string(), |holder| holder.described());
    Error::CallbackUnavailable { address: address.to_string(), reason }
}

/// Whether a taken fixed port is tried again after `waited`: for a moment whatever holds
/// it, and until the system frees it when only closing connections do (said once, in
/// the log, `told` records).
fn worth_waiting(waited: Duration, host: &str, port: u16, told: &mut bool) -> bool {
    if waited < FIXED_PORT_WAIT {
        return true;
    }
    let mut addresses = vec![SocketAddr::from((Ipv4Addr::LOCALHOST, port))];
    if host == "localhost" {
        addresses.push(SocketAddr::from((Ipv6Addr::LOCALHOST, port)));
    }
    let holders: Vec<Option<Holder>> = addresses.into_iter().map(port_holder::of).collect();
    let closing_only = holders.contains(&Some(Holder::Closing))
        && holders.iter().all(|holder| matches!(holder, None | Some(Holder::Closing)));
    if closing_only && waited < CLOSING_PORT_WAIT {
        if !std::mem::replace(told, true) {
            tracing::info!(
                port,
                "a closing connection holds the callback port; waiting for the system to free it"
            );
        }
        return true;
    }
    false
}

pub struct CallbackListener {
    /// 127.0.0.1, and [::1] on the same port when the redirect URI says `localhost`
    /// (see `bind_localhost`).
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
        let started = tokio::time::Instant::now();
        let mut told = false;
        loop {
            match Self::bind_once(host, port).await {
                Err(Error::CallbackUnavailable { .. })
                    if port.is_some_and(|port| worth_waiting(started.elapsed(), host, port, &mut told)) =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                bound => return bound,
            }
        }
    }

    async fn bind_once(host: &str, port: Option<u16>) -> Result<Self> {
        let listeners = match host {
            "localhost" => bind_localhost(port).await?,
            _ => vec![bind_v4(port.unwrap_or(0)).await?],
        };
        let port = local_port(&listeners[0])?;
        let redirect_uri = Url::parse(&format!("http://{host}:{port}{CALLBACK_PATH}")).expect("valid URL");
        Ok(CallbackListener { listeners, redirect_uri })
    }

    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Waits for the callback whose `state` matches, from the browser or pasted by the
    /// person (`pasted`), and checks its `iss` (RFC 9207) as `expected` says.
    pub async fn wait(
        self,
        state: &str,
        expected: ExpectedIssuer<'_>,
        pasted: &mut mpsc::Receiver<PastedAddress>,
    ) -> Result<Callback> {
        let (found_tx, mut found_rx) = mpsc::channel::<(HashMap<String, Vec<String>>, TcpStream)>(1);
        let mut connections = Connections::default();
        loop {
            tokio::select! {
                Some(PastedAddress { address, checked }) = pasted.recv() => {
                    match pasted_params(&address, &self.redirect_uri, state) {
                        Ok(params) => {
                            let _ = checked.send(Ok(()));
                            return outcome(&params, expected);
                        }
                        Err(error) => {
                            let _ = checked.send(Err(error));
                        }
                    }
                }
                accepted = accept_any(&self.listeners) => {
                    let Ok((stream, _)) = accepted else { continue };
                    let found_tx = found_tx.clone();
                    let state = state.to_owned();
                    connections.serve(async move {
                        if let Some(found) = screen(stream, &state).await {
                            let _ = found_tx.send(found).await;
                        }
                    });
                }
                Some((params, mut stream)) = found_rx.recv() => {
                    let outcome = outcome(&params, expected);
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

/// The connections being read, each on its own task, oldest first. At the cap the
/// oldest is dropped for the newcomer: connections that never send a request cannot
/// keep the browser's callback out, which comes last and sends its request at once.
#[derive(Default)]
struct Connections(VecDeque<AbortHandle>);

impl Connections {
    fn serve(&mut self, connection: impl Future<Output = ()> + Send + 'static) {
        self.0.retain(|task| !task.is_finished());
        if self.0.len() >= MAX_CONNECTIONS {
            if let Some(oldest) = self.0.pop_front() {
                oldest.abort();
            }
        }
        self.0.push_back(tokio::spawn(connection).abort_handle());
    }
}

async fn accept_any(listeners: &[TcpListener]) -> std::io::Result<(TcpStream, SocketAddr)> {
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
    let target = match tokio::time::timeout(HEAD_DEADLINE, read_request_target(&mut stream)).await {
        Ok(Ok(target)) => target,
        Ok(Err(status)) => return refuse(stream, status, "Bad request", LISTENER).await,
        Err(_) => return refuse(stream, "408 Request Timeout", "Request timed out", LISTENER).await,
    };
    let url = Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != CALLBACK_PATH {
        return refuse(stream, "404 Not Found", "Not found", LISTENER).await;
    }
    let params = callback_params(&url);
    if !is_this_flow(&params, state) {
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
        let expected = ExpectedIssuer { issuer: expected_issuer, required: false };
        let outcome = found.map(|(params, _)| outcome(&params, expected));
        (stream.into_inner().1, outcome)
    }
}

/// What RFC 9207 has the client check of the `iss` in an authorization response.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExpectedIssuer<'a> {
    /// The provider's issuer, where it is known.
    pub issuer: Option<&'a str>,
    /// Its metadata promises `iss` in every response
    /// (`authorization_response_iss_parameter_supported`): a response without one is
    /// refused, since it may come from another server (a mix-up).
    pub required: bool,
}

fn outcome(params: &HashMap<String, Vec<String>>, expected: ExpectedIssuer<'_>) -> Result<Callback> {
    let refused = |detail: &str| Error::ProviderError {
        provider: "The sign-in response".into(),
        detail: format!("{detail}; nothing was saved"),
    };
    // RFC 6749 §3.1: no parameter may be sent twice; which one to believe is the attack.
    if ["iss", "code", "error", "error_description"]
        .iter()
        .any(|key| params.get(*key).is_some_and(|v| v.len() > 1))
    {
        return Err(refused("it repeats a parameter, which a provider never does"));
    }
    let single = |key: &str| params.get(key).and_then(|values| values.first()).cloned();
    match (expected.issuer, single("iss")) {
        (Some(issuer), Some(iss)) if iss.trim_end_matches('/') != issuer.trim_end_matches('/') => {
            return Err(refused("it came from a different issuer than the provider you chose (RFC 9207)"));
        }
        (Some(_), None) if expected.required => {
            return Err(refused(
                "it does not say which issuer sent it, which this provider promises to (RFC 9207)",
            ));
        }
        _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_ipv6_loopback_lets_a_localhost_sign_in_go_on_without_it() {
        assert!(no_ipv6_loopback(&ErrorKind::AddrNotAvailable.into()));
        assert!(!no_ipv6_loopback(&ErrorKind::AddrInUse.into()));
        assert!(!no_ipv6_loopback(&ErrorKind::PermissionDenied.into()));
    }
}
