//! Ending a grant at the provider: RFC 7009, or the provider's own way (GitHub's grant
//! endpoint, Slack's bearer POST).

use base64::Engine as _;
use url::Url;

use crate::catalog::{ClientAuth, RevocationStyle, RevokedTokens, TokenRequestFormat};
use crate::http::HttpClient;
use crate::provider::ProviderRecord;
use crate::vault::TokenSet;
use crate::{Error, Result, Secret};

/// Where the provider takes revocations; None where it offers none.
pub(crate) fn revocation_endpoint(provider: &ProviderRecord) -> Result<Option<Url>> {
    let Some(url) = &provider.endpoints.revocation_url else { return Ok(None) };
    Url::parse(url).map(Some).map_err(|e| Error::Internal(format!("revocation URL: {e}")))
}

/// Sends the requests that end the grant of `tokens` at `url`, in order. An error: the
/// provider could not be reached, or did not take one of them (those after it are sent
/// still where it only does not revoke that kind of token).
pub(crate) async fn revoke_grant(
    provider: &ProviderRecord,
    url: &Url,
    secret: Option<&Secret>,
    tokens: &TokenSet,
    http: &HttpClient,
) -> Result<()> {
    let style = provider.spec.map(|s| s.revocation).unwrap_or_default();
    let revoke_with = provider.spec.map(|s| s.revoke_with).unwrap_or_default();
    let http = provider.http(http);
    let mut not_revoked = None;
    for request in revocation_requests(style, revoke_with, provider, secret, tokens, url) {
        let response = http
            .execute(request)
            .await
            .map_err(|error| error.for_provider(url, &provider.name, "revocation answer"))?;
        let status = response.status().as_u16();
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
        let error = body.get("error").and_then(|e| e.as_str()).unwrap_or_default();
        let accepted = match style {
            // RFC 7009 §2.2: an unknown or already revoked token is answered with 200;
            // Reddit answers 204.
            RevocationStyle::Rfc7009 => (200..300).contains(&status),
            // 404: the grant is already gone.
            RevocationStyle::GithubGrant => status == 204 || status == 404,
            // Slack answers `ok: false` with HTTP 200, and `token_revoked` for a token
            // already revoked. A 401 or `invalid_auth` may be an expired token, whose
            // grant lives on: not the provider's word that it ended.
            RevocationStyle::BearerPost => {
                (200..300).contains(&status) && body.get("ok") != Some(&serde_json::Value::Bool(false))
                    || error == "token_revoked"
            }
        };
        if accepted {
            continue;
        }
        let detail = match error {
            "" => format!("its revocation endpoint answered HTTP {status}"),
            // RFC 7009 §2.2.1: it does not revoke this kind of token, which lives on; it
            // may still revoke the others.
            "unsupported_token_type" if style == RevocationStyle::Rfc7009 => {
                not_revoked = Some(
                    "its revocation endpoint does not revoke every token of the grant \
                    (unsupported_token_type)",
                );
                continue;
            }
            code => {
                // A server may quote back what it was sent.
                let sent = [Some(&tokens.access_token), tokens.refresh_token.as_ref(), secret];
                let code = Secret::redacted(code, sent.into_iter().flatten());
                format!("its revocation endpoint answered {}", crate::error::provider_text(&code))
            }
        };
        return Err(Error::ProviderError { provider: provider.name.clone(), detail });
    }
    match not_revoked {
        Some(detail) => Err(Error::ProviderError { provider: provider.name.clone(), detail: detail.into() }),
        None => Ok(()),
    }
}

/// The requests that revoke a grant, in order, with the tokens `revoke_with` names.
fn revocation_requests(
    style: RevocationStyle,
    revoke_with: RevokedTokens,
    provider: &ProviderRecord,
    secret: Option<&Secret>,
    tokens: &TokenSet,
    url: &Url,
) -> Vec<oauth2::HttpRequest> {
    let builder = |method: http::Method| {
        let headers = provider.spec.into_iter().flat_map(|s| &s.revocation_headers);
        headers.fold(http::Request::builder().method(method).uri(url.as_str()), |request, (name, value)| {
            request.header(name, value)
        })
    };
    match style {
        RevocationStyle::Rfc7009 => {
            let refresh = tokens.refresh_token.as_ref().map(|token| (token, "refresh_token"));
            let access = (&tokens.access_token, "access_token");
            let sent = match (revoke_with, refresh) {
                (RevokedTokens::RefreshThenAccess, refresh) => refresh.into_iter().chain([access]).collect(),
                (RevokedTokens::RefreshEndsGrant, Some(refresh)) => vec![refresh],
                (RevokedTokens::RefreshEndsGrant | RevokedTokens::FreshAccessToken, _) => vec![access],
            };
            sent.into_iter()
                .map(|(token, hint)| {
                    rfc7009_request(builder(http::Method::POST), provider, secret, token, hint)
                })
                .collect()
        }
        RevocationStyle::GithubGrant => {
            let body = serde_json::json!({ "access_token": tokens.access_token.expose() });
            let mut request = builder(http::Method::DELETE)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::ACCEPT, "application/vnd.github+json");
            if let Some(secret) = secret {
                request = request.header(http::header::AUTHORIZATION, basic(&provider.app.client_id, secret));
            }
            vec![request.body(serde_json::to_vec(&body).expect("JSON")).expect("a valid request")]
        }
        RevocationStyle::BearerPost => vec![builder(http::Method::POST)
            .header(http::header::AUTHORIZATION, format!("Bearer {}", tokens.access_token.expose()))
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .expect("a valid request")],
    }
}

/// An RFC 7009 revocation request for one token, with the client authenticated as at
/// the provider's token endpoint.
fn rfc7009_request(
    request: http::request::Builder,
    provider: &ProviderRecord,
    secret: Option<&Secret>,
    token: &Secret,
    hint: &str,
) -> oauth2::HttpRequest {
    let client_id = &provider.app.client_id;
    let json = provider.spec.is_some_and(|s| s.token_request == TokenRequestFormat::Json);
    // Notion's JSON body is `{token}` alone; RFC 7009's form takes the hint.
    let mut fields = vec![("token", token.expose())];
    if !json {
        fields.push(("token_type_hint", hint));
    }
    let mut request = request.header(http::header::ACCEPT, "application/json");
    match (provider.client_auth(), secret) {
        (ClientAuth::Basic, Some(secret)) => {
            request = request.header(http::header::AUTHORIZATION, basic(client_id, secret));
        }
        (ClientAuth::None, _) => fields.push(("client_id", client_id)),
        (_, secret) => {
            fields.push(("client_id", client_id));
            fields.extend(secret.map(|s| ("client_secret", s.expose())));
        }
    }
    // Providers that take JSON at the token endpoint (Notion) take it here too.
    let (content_type, body) = if json {
        let object: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
        ("application/json", serde_json::to_vec(&object).expect("JSON"))
    } else {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(fields);
        ("application/x-www-form-urlencoded", form.finish().into_bytes())
    };
    request.header(http::header::CONTENT_TYPE, content_type).body(body).expect("a valid request")
}

/// The `Authorization: Basic` header of a client.
fn basic(client_id: &str, secret: &Secret) -> String {
    format!("Basic {}", basic_credentials(client_id, secret.expose()))
}

/// RFC 6749 §2.3.1: id and secret form-encoded, joined by a colon, in base64.
fn basic_credentials(client_id: &str, secret: &str) -> String {
    let encode = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
}
