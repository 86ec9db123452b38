//! The one HTTP client for talking to providers: no redirects (a token endpoint that
//! redirects is refused, not followed), connect and total timeouts, bounded bodies.

use std::time::Duration;

use futures_util::StreamExt;
use url::Url;

use crate::{Error, Result};

/// Largest response body read from a provider.
const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub struct HttpClient(reqwest::Client);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Transport(String),
    #[error("the response is larger than {BODY_LIMIT} bytes")]
    TooLarge,
    /// 5xx or 429: the provider is there but cannot answer now.
    #[error("it answered HTTP {0}")]
    Unavailable(u16),
}

impl HttpClient {
    pub fn new() -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("Grantkeeper/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("HTTP client: {e}")))?;
        Ok(HttpClient(client))
    }

    /// Runs a request built by the `oauth2` crate.
    pub async fn execute(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let response = self
            .0
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS {
            return Err(HttpError::Unavailable(status.as_u16()));
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
        let request = if post { self.0.post(url.as_str()) } else { self.0.get(url.as_str()) };
        let mut request = request.header("Accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
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
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    HttpError::Transport(text)
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
