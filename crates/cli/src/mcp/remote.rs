//! The MCP server's one endpoint, over the Streamable HTTP transport: POST a message,
//! GET the server's own event stream, DELETE the session. Every request carries a fresh
//! token and goes to the connection's resource URL only: redirects are not followed.
//!
//! A 401 gets one refresh and one retry; a second 401 (or a refresh the provider
//! refuses) means the person must sign in again. A 403 `insufficient_scope` is recorded
//! as the connection needing more access.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use grantkeeper_engine::{Error, Secret};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, Response, StatusCode};
use url::Url;

use super::session::{Current, Session};
use super::sse::{error_chain, EVENT_LIMIT};
use super::text::{for_terminal, SHOWN_CHARS};
use super::tokens::{ends_the_bridge, Credentials, Tokens};
use super::www_authenticate::insufficient_scope;

const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// How much of an error answer is read, to show some of it.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The HTTP client for an MCP server: no redirects, a bounded connect. There is no
/// overall timeout: an answer may stream for as long as a tool runs (the client cancels
/// what it no longer wants).
pub fn http_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("Grantkeeper/", env!("CARGO_PKG_VERSION"), " (mcp bridge)"))
        .build()
        .map_err(|e| Error::Internal(format!("no HTTP client: {e}")))
}

/// Why a request to the server did not get the answer it asked for.
#[derive(Debug)]
pub enum Failure {
    /// The connection needs the person to sign in again (or is gone): the bridge stops.
    SignIn(Error),
    /// The server wants these scopes beyond the grant (403 `insufficient_scope`).
    MoreAccess(Vec<String>),
    /// The server no longer knows the session of this generation (404).
    SessionGone(u64),
    /// The server answered with this HTTP status.
    Status { status: u16, detail: String },
    /// The request or its answer went wrong on the way (network, redirect, size, token).
    Other(String),
}

/// The server's answer to a POST.
pub enum Reply {
    /// 202 Accepted (or an empty answer): nothing comes back.
    Accepted,
    /// A JSON body: one message or a batch.
    Json(Bytes),
    /// An event stream of messages.
    Events(Response),
    /// A 2xx with something else.
    Unexpected(String),
}

pub struct Remote<T> {
    http: reqwest::Client,
    url: Url,
    /// The connection's name, for messages.
    name: String,
    credentials: Credentials<T>,
    pub session: Session,
}

impl<T: Tokens> Remote<T> {
    pub fn new(http: reqwest::Client, url: Url, name: String, tokens: T) -> Self {
        Remote { http, url, name, credentials: Credentials::new(tokens), session: Session::default() }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Fetches the token ahead of the first request (the keychain, maybe a refresh, or the
    /// person's answer to the token agent's question). The error that ends the bridge
    /// (denied, sign in again), if that is how it went; any other fails only a request.
    pub async fn warm_up(&self) -> Option<Error> {
        self.credentials.token().await.err().filter(ends_the_bridge)
    }

    /// POSTs a client message. `initialize` starts a session: it is sent without one,
    /// and the session id in the answer is kept for `generation`.
    pub async fn post(&self, body: Bytes, initialize: Option<u64>) -> Result<Reply, Failure> {
        let session = match initialize {
            Some(generation) => Current { generation, ..Current::default() },
            None => self.session.current(),
        };
        let mut headers = session_headers(&session);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let response = self.send(Method::POST, headers, Some(body), &session, true).await?;
        if let Some(generation) = initialize {
            if let Err(why) = self.session.started(generation, response.headers().get(SESSION_ID)) {
                eprintln!("grantkeeper: {why}; going on without a session");
            }
        }
        if response.status() == StatusCode::ACCEPTED || response.content_length() == Some(0) {
            return Ok(Reply::Accepted);
        }
        match media_type(&response).as_deref() {
            Some("text/event-stream") => Ok(Reply::Events(response)),
            Some("application/json") => Ok(Reply::Json(read_bounded(response, EVENT_LIMIT).await?)),
            other => Ok(Reply::Unexpected(for_terminal(other.unwrap_or("no content type"), 80))),
        }
    }

    /// Opens the server's event stream: its own messages (no `last_event_id`), or the
    /// rest of a stream that broke off after the event with that id.
    pub async fn events(&self, last_event_id: Option<&str>) -> Result<Response, Failure> {
        let session = self.session.current();
        let mut headers = session_headers(&session);
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        if let Some(id) = last_event_id {
            let id = HeaderValue::from_str(id)
                .map_err(|_| Failure::Other("an event id that cannot be sent".into()))?;
            headers.insert(LAST_EVENT_ID, id);
        }
        let response = self.send(Method::GET, headers, None, &session, true).await?;
        match media_type(&response).as_deref() {
            Some("text/event-stream") => Ok(response),
            other => Err(Failure::Other(format!(
                "the server answered GET with {}, not an event stream",
                for_terminal(other.unwrap_or("no content type"), 80)
            ))),
        }
    }

    /// Ends the session at the server (best effort: a refused token is not refreshed).
    pub async fn end_session(&self) {
        let session = self.session.current();
        if session.id.is_none() {
            return;
        }
        match self.send(Method::DELETE, session_headers(&session), None, &session, false).await {
            Ok(_) | Err(Failure::Status { status: 405, .. }) => {}
            Err(failure) => tracing::debug!("ending the session: {}", describe(&failure)),
        }
    }

    /// Sends a request with the token; on 401 refreshes once and sends it again.
    async fn send(
        &self,
        method: Method,
        headers: HeaderMap,
        body: Option<Bytes>,
        session: &Current,
        retry_refused: bool,
    ) -> Result<Response, Failure> {
        let token = self.credentials.token().await.map_err(|e| self.token_failure(e))?;
        let response = self.exchange(&method, &headers, &body, &token).await?;
        if response.status() != StatusCode::UNAUTHORIZED || !retry_refused {
            return self.judge(response, session, &token).await;
        }
        tracing::debug!("the server refused the token (401): refreshing once");
        let token = self.credentials.refused(&token).await.map_err(|e| self.token_failure(e))?;
        let response = self.exchange(&method, &headers, &body, &token).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(Failure::SignIn(self.credentials.renewed_token_refused().await));
        }
        self.judge(response, session, &token).await
    }

    async fn exchange(
        &self,
        method: &Method,
        headers: &HeaderMap,
        body: &Option<Bytes>,
        token: &Secret,
    ) -> Result<Response, Failure> {
        // bearer_auth marks the header sensitive: it never shows in a Debug print.
        let mut request = self.http.request(method.clone(), self.url.clone()).headers(headers.clone());
        if let Some(body) = body {
            request = request.body(body.clone());
        }
        request.bearer_auth(token.expose()).send().await.map_err(|e| {
            Failure::Other(format!(
                "could not reach {}: {}",
                self.url.authority(),
                error_chain(&e.without_url())
            ))
        })
    }

    /// A 2xx goes on; anything else becomes a failure.
    async fn judge(
        &self,
        response: Response,
        session: &Current,
        token: &Secret,
    ) -> Result<Response, Failure> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_redirection() {
            return Err(Failure::Other(format!(
                "the server redirected the request (HTTP {}); Grantkeeper sends the token only to {} \
                 and follows no redirect",
                status.as_u16(),
                self.url
            )));
        }
        if status == StatusCode::FORBIDDEN {
            if let Some(scopes) = insufficient_scope(response.headers()) {
                if !scopes.is_empty() {
                    if let Err(error) = self.credentials.needs_more_access(&scopes).await {
                        eprintln!(
                            "grantkeeper: could not record that “{}” needs more access: {error}",
                            self.name
                        );
                    }
                }
                return Err(Failure::MoreAccess(scopes));
            }
        }
        if status == StatusCode::NOT_FOUND && session.id.is_some() {
            return Err(Failure::SessionGone(session.generation));
        }
        let body = read_bounded(response, ERROR_BODY_LIMIT).await.unwrap_or_default();
        Err(Failure::Status { status: status.as_u16(), detail: error_detail(&body, token) })
    }

    fn token_failure(&self, error: Error) -> Failure {
        if ends_the_bridge(&error) {
            Failure::SignIn(error)
        } else {
            Failure::Other(format!("Grantkeeper could not get a token for “{}”: {error}", self.name))
        }
    }
}

/// The session's headers: its id and, after `initialize`, the agreed protocol version.
fn session_headers(session: &Current) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(id) = &session.id {
        headers.insert(SESSION_ID, id.clone());
    }
    if let Some(version) = &session.protocol_version {
        headers.insert(PROTOCOL_VERSION, version.clone());
    }
    headers
}

/// The media type of the answer (`Content-Type` without parameters), lowercase.
fn media_type(response: &Response) -> Option<String> {
    let value = response.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    let mime: mime::Mime = value.parse().ok()?;
    Some(mime.essence_str().to_ascii_lowercase())
}

/// At most `limit` bytes of body; more is an error.
async fn read_bounded(response: Response, limit: usize) -> Result<Bytes, Failure> {
    let too_large = || Failure::Other(format!("the server's answer is larger than {limit} bytes"));
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk =
            chunk.map_err(|e| Failure::Other(format!("the answer broke off: {}", error_chain(&e))))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}

/// What an error answer says, for a person: a JSON-RPC error's message, or the text;
/// the token the request carried redacted, should the server quote it back.
fn error_detail(body: &[u8], token: &Secret) -> String {
    let text = String::from_utf8_lossy(body);
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|value| value.pointer("/error/message").and_then(|m| m.as_str()).map(str::to_owned));
    for_terminal(&Secret::redacted(message.as_deref().unwrap_or(&text), [token]), SHOWN_CHARS)
}

/// A failure in a sentence (for stderr and error answers).
pub fn describe(failure: &Failure) -> String {
    match failure {
        Failure::SignIn(error) => error.to_string(),
        Failure::MoreAccess(scopes) if scopes.is_empty() => "the server wants more access".into(),
        Failure::MoreAccess(scopes) => format!("the server wants more access: {}", scopes.join(" ")),
        Failure::SessionGone(_) => "the server ended the session".into(),
        Failure::Status { status, detail } if detail.is_empty() => {
            format!("the server answered HTTP {status}")
        }
        Failure::Status { status, detail } => format!("the server answered HTTP {status}: {detail}"),
        Failure::Other(text) => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_are_shown_short_and_clean() {
        let token = Secret::new("canary-bridge-token");
        let json = br#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: \u001b[31mno session"},"id":null}"#;
        assert_eq!(error_detail(json, &token), "Bad Request: [31mno session");
        assert_eq!(error_detail(b"<html>\n<b>502</b>\n</html>", &token), "<html> <b>502</b> </html>");
        let long = "x".repeat(ERROR_BODY_LIMIT);
        assert!(error_detail(long.as_bytes(), &token).chars().count() <= SHOWN_CHARS + 1);
        let quoted = b"bad request, you sent Authorization: Bearer canary-bridge-token";
        assert_eq!(error_detail(quoted, &token), "bad request, you sent Authorization: Bearer [redacted]");
    }
}
