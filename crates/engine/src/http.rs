//! The one HTTP client for talking to providers: no redirects (a token endpoint that
//! redirects is refused, not followed), connect and total timeouts, bounded bodies.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use url::Url;

use crate::{Error, Result};

/// Largest response body read from a provider.
const BODY_LIMIT: usize = 1024 * 1024;

/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct HttpClient {
    client: Arc<OnceLock<reqwest::Client>>,
    /// Sent instead of Grantkeeper's own User-Agent, for a provider that asks for one.
    user_agent: Option<http::HeaderValue>,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request never reached the provider: no connection (refused, DNS, TLS).
    #[error("{0}")]
    NotSent(String),
    /// The request may have reached the provider, but no whole answer came back.
    #[error("{0}")]
    Transport(String),
    #[error("the response is larger than {BODY_LIMIT} bytes")]
    TooLarge,
    /// 5xx or 429: the provider is there but cannot answer now; it may say when to
    /// come back (`Retry-After`).
    #[error("it answered HTTP {status}")]
    Unavailable { status: u16, retry_after: Option<Duration> },
}

/// The longest `Retry-After` Grantkeeper honours; a provider asking for more is asked
/// again after this.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(15 * 60);

impl HttpError {
    /// The error a person sees: the provider could not be reached or could not answer
    /// now (try later), or its answer (`what`) was too large.
    pub fn for_provider(self, url: &Url, provider: &str, what: &str) -> Error {
        match self {
            HttpError::NotSent(reason) | HttpError::Transport(reason) => {
                Error::ProviderUnreachable { host: host_of(url), reason, answered: None, retry_after: None }
            }
            HttpError::Unavailable { status, retry_after } => Error::ProviderUnreachable {
                host: host_of(url),
                reason: format!("it answered HTTP {status}"),
                answered: Some(status),
                retry_after,
            },
            HttpError::TooLarge => Error::ProviderError {
                provider: provider.to_owned(),
                detail: format!("its {what} is too large"),
            },
        }
    }
}

/// RFC 9110 §10.2.3: seconds, or an HTTP date; capped.
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at =
                time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
            (at - time::OffsetDateTime::now_utc()).try_into().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

impl HttpClient {
    /// The reqwest client is built on first use: loading the system's root certificates
    /// costs milliseconds that `grantkeeper token` with a valid token never needs.
    pub fn new() -> Result<Self> {
        Ok(HttpClient { client: Arc::new(OnceLock::new()), user_agent: None })
    }

    /// The same client, sending `user_agent` with every request (a provider's own);
    /// None keeps Grantkeeper's. A value that cannot be a header is not sent.
    pub fn with_user_agent(&self, user_agent: Option<&str>) -> HttpClient {
        let user_agent = user_agent.and_then(|agent| http::HeaderValue::from_str(agent).ok());
        HttpClient { client: self.client.clone(), user_agent }
    }

    fn client(&self) -> Result<&reqwest::Client, HttpError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("Grantkeeper/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::NotSent(format!("no HTTP client: {e}")))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// Runs a request built by the `oauth2` crate.
    pub async fn execute(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, HttpError> {
        let (mut parts, body) = request.into_parts();
        if let Some(agent) = &self.user_agent {
            parts.headers.insert(http::header::USER_AGENT, agent.clone());
        }
        let response = self
            .client()?
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS {
            return Err(HttpError::Unavailable {
                status: status.as_u16(),
                retry_after: retry_after(response.headers()),
            });
        }
        let mut builder = http::Response::builder().status(status);
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = read_bounded(response).await?;
        builder.body(body).map_err(|e| HttpError::Transport(e.to_string()))
    }

    /// GET a JSON document (discovery, userinfo), with an optional bearer token.
    pub async fn get_json(&self, url: &Url, bearer: Option<&str>) -> Result<(u16, Vec<u8>), HttpError> {
        self.call_json(false, url, bearer).await
    }

    /// GET, or POST without a body (Dropbox's RPC endpoints), answered with JSON.
    pub async fn call_json(
        &self,
        post: bool,
        url: &Url,
        bearer: Option<&str>,
    ) -> Result<(u16, Vec<u8>), HttpError> {
        self.send_json(post, url, bearer, None).await
    }

    /// GET, or POST with an optional JSON body (a GraphQL query), answered with JSON.
    pub async fn send_json(
        &self,
        post: bool,
        url: &Url,
        bearer: Option<&str>,
        json_body: Option<&str>,
    ) -> Result<(u16, Vec<u8>), HttpError> {
        let client = self.client()?;
        let request = if post { client.post(url.as_str()) } else { client.get(url.as_str()) };
        let mut request = request.header("Accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(agent) = &self.user_agent {
            request = request.header(http::header::USER_AGENT, agent.clone());
        }
        if let Some(body) = json_body {
            request = request.header(http::header::CONTENT_TYPE, "application/json").body(body.to_owned());
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        Ok((status, read_bounded(response).await?))
    }
}

async fn read_bounded(response: reqwest::Response) -> Result<Vec<u8>, HttpError> {
    if response.content_length().is_some_and(|length| length > BODY_LIMIT as u64) {
        return Err(HttpError::TooLarge);
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(transport)?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(HttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport(error: reqwest::Error) -> HttpError {
    // reqwest's Display includes the URL, which never carries a secret here (codes and
    // tokens travel in bodies); strip it anyway to keep messages short.
    let error = error.without_url();
    let sent = !(error.is_connect() || error.is_builder());
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    if sent {
        HttpError::Transport(text)
    } else {
        HttpError::NotSent(text)
    }
}

/// Lets the `oauth2` crate send its requests through this client.
impl<'c> oauth2::AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

/// The host part of a URL, for messages.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date_and_capped() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(http::header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
        headers.insert(http::header::RETRY_AFTER, "86400".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(RETRY_AFTER_CAP));
        headers.insert(http::header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO), "a date in the past: now");
        headers.insert(http::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
