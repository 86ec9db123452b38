//! Finding who guards a URL: the server's 401 challenge, then its protected resource
//! metadata (RFC 9728) in the order the MCP authorization specification gives. The
//! metadata must name the URL asked for as its resource, or a part of the same server
//! that holds it (a root document naming the origin), as MCP's reference SDK accepts.

use serde::Deserialize;
use url::Url;

use crate::http::{host_of, HttpClient, HttpError};
use crate::oauth::BearerChallenge;
use crate::provider::{issuer_url, provider_url};
use crate::{Error, Result};

/// What a URL's protected resource metadata says.
#[derive(Debug, Clone)]
pub struct FoundResource {
    /// The URL asked for: where requests go.
    pub url: Url,
    /// The resource identifier as its metadata writes it: the `resource` parameter of
    /// every token request (RFC 8707), which the server may compare as a string.
    pub resource: String,
    pub metadata_url: Url,
    /// The first authorization server it lists.
    pub authorization_server: Url,
    /// The scopes its challenge asked for, else those its metadata lists.
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
struct ResourceMetadata {
    resource: String,
    #[serde(default)]
    authorization_servers: Vec<String>,
    #[serde(default)]
    scopes_supported: Vec<String>,
}

/// The protected resource metadata of `url`.
pub async fn discover_resource(http: &HttpClient, url: &Url) -> Result<FoundResource> {
    let unusable = |reason: String| Error::ResourceUnusable { url: url.to_string(), reason };
    let challenge = probe(http, url).await?;
    let candidates = match challenge.as_ref().and_then(|c| c.resource_metadata.as_deref()) {
        Some(given) => vec![provider_url("url", "metadata URL its server named", given).map_err(|e| {
            unusable(format!("its server named a metadata URL Grantkeeper will not use ({e})"))
        })?],
        None => well_known_urls(url),
    };
    let mut reasons = Vec::new();
    for metadata_url in candidates {
        match fetch_metadata(http, &metadata_url).await {
            Ok(metadata) => {
                return found(url, metadata_url, metadata, challenge.map(|c| c.scopes).unwrap_or_default())
                    .map_err(unusable)
            }
            Err(reason) => reasons.push(format!("{metadata_url}: {reason}")),
        }
    }
    Err(unusable(format!(
        "no protected resource metadata was found ({}). Check the URL; a server that signs in its own way may need its client's set-up instead",
        reasons.join("; ")
    )))
}

/// One unauthenticated request, as an MCP client's first one: a server that wants a
/// token answers 401, ideally naming its metadata.
async fn probe(http: &HttpClient, url: &Url) -> Result<Option<BearerChallenge>> {
    let unusable = |reason: String| Error::ResourceUnusable { url: url.to_string(), reason };
    let initialize = serde_json::json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "Grantkeeper", "version": env!("CARGO_PKG_VERSION") }
        }
    });
    let request = http::Request::post(url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json, text/event-stream")
        .body(serde_json::to_vec(&initialize).expect("JSON serializes"))
        .expect("a valid request");
    // Nothing to connect to (no such host, nothing listening): the URL may be wrong. A
    // server that is there but fails to answer may answer later (exit 5, as for any
    // provider).
    let response = http.execute(request).await.map_err(|e| match e {
        HttpError::NotSent(reason) => {
            unusable(format!("{} did not answer ({reason}). Check the URL and your network", host_of(url)))
        }
        HttpError::TooLarge => unusable(format!("its answer is too large ({e})")),
        other => other.for_provider(url, &host_of(url), "answer"),
    })?;
    let status = response.status();
    if status.is_success() {
        return Err(unusable(
            "it answered without asking for a sign-in, so there is nothing to connect: use it directly"
                .into(),
        ));
    }
    if status.is_redirection() {
        let location = response.headers().get(http::header::LOCATION).and_then(|l| l.to_str().ok());
        let moved_to = location
            .and_then(|to| url.join(to).ok())
            .map(|to| format!(": {}", crate::error::provider_text(to.as_str())))
            .unwrap_or_default();
        return Err(unusable(format!(
            "it redirects elsewhere (HTTP {}), which Grantkeeper does not follow. Use the address it redirects to{moved_to}",
            status.as_u16(),
        )));
    }
    Ok(BearerChallenge::from_headers(response.headers()))
}

/// RFC 9728 §3.1: the well-known segment between the host and the path and query, then
/// at the root.
fn well_known_urls(url: &Url) -> Vec<Url> {
    let mut inserted = url.clone();
    inserted.set_path(&format!("/.well-known/oauth-protected-resource{}", url.path().trim_end_matches('/')));
    let mut root = inserted.clone();
    root.set_path("/.well-known/oauth-protected-resource");
    root.set_query(None);
    match inserted == root {
        true => vec![root],
        false => vec![inserted, root],
    }
}

async fn fetch_metadata(
    http: &HttpClient,
    metadata_url: &Url,
) -> std::result::Result<ResourceMetadata, String> {
    let (status, body) = http.get_json(metadata_url, None).await.map_err(|e| e.to_string())?;
    match status {
        200 => serde_json::from_slice(&body)
            .map_err(|_| "the answer is not protected resource metadata (JSON with a resource)".to_owned()),
        300..=399 => {
            Err(format!("it redirects elsewhere (HTTP {status}), which Grantkeeper does not follow"))
        }
        _ => Err(format!("HTTP {status}")),
    }
}

fn found(
    url: &Url,
    metadata_url: Url,
    metadata: ResourceMetadata,
    challenge_scopes: Vec<String>,
) -> std::result::Result<FoundResource, String> {
    // RFC 9728 §3.3: metadata naming another resource may be an attacker's.
    if !Url::parse(&metadata.resource).is_ok_and(|named| holds(&named, url)) {
        return Err(format!(
            "its metadata ({metadata_url}) is for another resource, “{}”, so it was not used. Check the URL",
            crate::error::provider_text(&metadata.resource)
        ));
    }
    let Some(server) = metadata.authorization_servers.first() else {
        return Err(format!("its metadata ({metadata_url}) names no authorization server"));
    };
    let authorization_server = issuer_url("url", "authorization server", server)
        .map_err(|e| format!("its authorization server cannot be used ({e})"))?;
    let scopes = match challenge_scopes.is_empty() {
        true => metadata.scopes_supported,
        false => challenge_scopes,
    };
    let scopes = crate::provider::check_scopes(&scopes).map_err(|e| e.to_string())?;
    Ok(FoundResource {
        url: url.clone(),
        resource: metadata.resource,
        metadata_url,
        authorization_server,
        scopes,
    })
}

/// Whether resource identifier `named` covers `url`: the same URL, or a part of the same
/// server whose path holds it, segment by segment (`https://a.example` holds
/// `https://a.example/mcp`; `/mc` does not hold `/mcp`).
fn holds(named: &Url, url: &Url) -> bool {
    if named == url {
        return true;
    }
    let prefix = named.path().trim_end_matches('/');
    named.origin() == url.origin()
        && named.query().is_none()
        && named.fragment().is_none()
        && (url.path() == prefix || url.path().starts_with(&format!("{prefix}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(resource: &str, servers: &[&str]) -> ResourceMetadata {
        ResourceMetadata {
            resource: resource.into(),
            authorization_servers: servers.iter().map(|s| s.to_string()).collect(),
            scopes_supported: vec!["mcp:tools".into()],
        }
    }

    #[test]
    fn well_known_urls_insert_the_path_and_query_then_try_the_root() {
        let urls = |url: &str| -> Vec<String> {
            well_known_urls(&Url::parse(url).unwrap()).iter().map(Url::to_string).collect()
        };
        assert_eq!(
            urls("https://a.example/v1/mcp?x=1"),
            [
                "https://a.example/.well-known/oauth-protected-resource/v1/mcp?x=1",
                "https://a.example/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(urls("https://a.example/mcp/"), urls("https://a.example/mcp"));
        assert_eq!(urls("https://a.example"), ["https://a.example/.well-known/oauth-protected-resource"]);
        assert_eq!(urls("https://a.example/?t=1").len(), 2);
    }

    #[test]
    fn a_resource_holds_itself_and_the_paths_below_it_on_its_server() {
        let holds = |named: &str, url: &str| holds(&Url::parse(named).unwrap(), &Url::parse(url).unwrap());
        assert!(holds("https://a.example/mcp", "https://a.example/mcp"));
        assert!(holds("https://a.example", "https://a.example/mcp"));
        assert!(holds("https://a.example/", "https://a.example/mcp"));
        assert!(holds("https://a.example/v1", "https://a.example/v1/mcp"));
        assert!(holds("https://a.example/v1/", "https://a.example/v1/mcp?x=1"));
        assert!(!holds("https://a.example/mc", "https://a.example/mcp"));
        assert!(!holds("https://a.example/mcp/sub", "https://a.example/mcp"));
        assert!(!holds("https://b.example", "https://a.example/mcp"));
        assert!(!holds("https://a.example:8443", "https://a.example/mcp"));
        assert!(!holds("http://a.example", "https://a.example/mcp"));
        assert!(!holds("https://a.example/?t=2", "https://a.example/mcp"));
    }

    #[test]
    fn metadata_for_another_resource_or_without_a_server_is_refused() {
        let url = Url::parse("https://a.example/mcp").unwrap();
        let metadata_url = Url::parse("https://a.example/.well-known/oauth-protected-resource/mcp").unwrap();
        let other =
            found(&url, metadata_url.clone(), metadata("https://b.example/mcp", &["https://as"]), vec![]);
        assert!(other.unwrap_err().contains("another resource"));
        let none = found(&url, metadata_url.clone(), metadata("https://a.example/mcp", &[]), vec![]);
        assert!(none.unwrap_err().contains("no authorization server"));
        let plain = found(
            &url,
            metadata_url.clone(),
            metadata("https://a.example/mcp", &["http://as.example"]),
            vec![],
        );
        assert!(plain.unwrap_err().contains("https"));
        let ok = found(
            &url,
            metadata_url,
            metadata("https://a.example/mcp", &["https://as.example"]),
            vec!["x".into()],
        )
        .unwrap();
        assert_eq!(
            (ok.authorization_server.as_str(), ok.scopes),
            ("https://as.example/", vec!["x".to_owned()])
        );
        // A root document names the server's origin: sent as written, without a slash.
        let root = Url::parse("https://a.example/.well-known/oauth-protected-resource").unwrap();
        let origin =
            found(&url, root, metadata("https://a.example", &["https://as.example"]), vec![]).unwrap();
        assert_eq!(
            (origin.resource.as_str(), origin.url.as_str()),
            ("https://a.example", "https://a.example/mcp")
        );
    }
}
