//! Token endpoints as providers really run them, made to look like RFC 6749 §5 to the
//! `oauth2` crate: a JSON request body where the provider wants one, form-encoded
//! answers, errors sent with HTTP 200 (GitHub, Slack, Reddit), Slack's `authed_user` envelope, comma-separated
//! scopes (or scopes as a JSON array), provider-specific error codes and missing or
//! stringly `token_type` and `expires_in`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::catalog::{TokenRequestFormat, TokenResponseShape};
use crate::http::{HttpClient, HttpError};

/// The provider-facing client for one provider's token endpoint.
pub(crate) struct TokenEndpoint {
    pub http: HttpClient,
    pub request_format: TokenRequestFormat,
    pub response_shape: TokenResponseShape,
    /// Provider error code → RFC 6749 code.
    pub error_codes: Option<&'static BTreeMap<String, String>>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for TokenEndpoint {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = match self.request_format {
                TokenRequestFormat::Form => request,
                TokenRequestFormat::Json => json_request(request),
            };
            let response = self.http.execute(request).await?;
            Ok(self.normalize(response))
        })
    }
}

impl TokenEndpoint {
    pub(crate) fn normalize(&self, response: oauth2::HttpResponse) -> oauth2::HttpResponse {
        let (mut parts, body) = response.into_parts();
        let Some(mut document) = parse_body(&body) else {
            // Not a token response at all (HTML, truncated JSON): oauth2 reports it.
            return oauth2::HttpResponse::from_parts(parts, body);
        };
        let mut status = parts.status;
        match self.response_shape {
            // An error sent with HTTP 200 (Reddit's): an `error` and no token.
            TokenResponseShape::Standard => {
                if document.get("error").is_some_and(Value::is_string)
                    && !document.contains_key("access_token")
                {
                    status = http::StatusCode::BAD_REQUEST;
                }
            }
            TokenResponseShape::Github => {
                if document.contains_key("error") {
                    status = http::StatusCode::BAD_REQUEST;
                }
            }
            TokenResponseShape::SlackV2 => {
                if document.get("ok") == Some(&Value::Bool(false)) {
                    status = http::StatusCode::BAD_REQUEST;
                } else if let Some(Value::Object(user)) = document.get("authed_user").cloned() {
                    // A user token: its fields replace the (bot) ones at the top.
                    for key in ["access_token", "token_type", "scope", "refresh_token", "expires_in"] {
                        match user.get(key) {
                            Some(value) => document.insert(key.to_owned(), value.clone()),
                            None => document.remove(key),
                        };
                    }
                }
            }
        }
        if status.is_success() {
            normalize_success(&mut document, self.response_shape);
        } else {
            self.normalize_error(&mut document);
        }
        parts.status = status;
        parts.headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        parts.headers.remove(http::header::CONTENT_LENGTH);
        let body = serde_json::to_vec(&document).expect("a JSON object serializes");
        oauth2::HttpResponse::from_parts(parts, body)
    }

    /// A provider-specific error code becomes its RFC 6749 meaning; the provider's own
    /// code stays visible in the description.
    fn normalize_error(&self, document: &mut Map<String, Value>) {
        let Some(code) = document.get("error").and_then(Value::as_str).map(str::to_owned) else { return };
        let Some(standard) = self.error_codes.and_then(|codes| codes.get(&code)) else { return };
        let description = match document.get("error_description").and_then(Value::as_str) {
            Some(text) => format!("{code}: {text}"),
            None => code.clone(),
        };
        document.insert("error".into(), Value::String(standard.clone()));
        document.insert("error_description".into(), Value::String(description));
    }
}

fn normalize_success(document: &mut Map<String, Value>, shape: TokenResponseShape) {
    // Some providers leave the type out, and Slack calls a user token "user": both are
    // bearer tokens. Any other type (DPoP, MAC) stays as sent, for the grant to refuse.
    let slack_user = shape == TokenResponseShape::SlackV2
        && document.get("token_type").and_then(Value::as_str) == Some("user");
    if slack_user || document.get("token_type").is_none_or(Value::is_null) {
        document.insert("token_type".into(), Value::String("bearer".into()));
    }
    if let Some(sent) = document.get("expires_in") {
        match seconds_in(sent) {
            Some(seconds) => document.insert("expires_in".into(), Value::from(seconds)),
            None => document.remove("expires_in"),
        };
    }
    if let Some(Value::Array(scopes)) = document.get("scope") {
        let joined = scopes.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ");
        document.insert("scope".into(), Value::String(joined));
    }
    if shape != TokenResponseShape::Standard {
        if let Some(Value::String(scope)) = document.get("scope") {
            let joined = scope.split([',', ' ']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
            document.insert("scope".into(), Value::String(joined));
        }
    }
}

/// A lifetime as providers send it: whole seconds, a fraction of them, or either as a
/// string. None for anything else, a negative number included: left out, as if unsaid.
fn seconds_in(sent: &Value) -> Option<u64> {
    let seconds = match sent {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // Saturates: a lifetime past any sense is the grant's to refuse (`taken_lifetime`).
    (seconds.is_finite() && seconds >= 0.0).then_some(seconds as u64)
}

/// The body as a JSON object: JSON, or a form-encoded answer (GitHub without
/// `Accept: application/json`).
fn parse_body(body: &[u8]) -> Option<Map<String, Value>> {
    if let Ok(Value::Object(document)) = serde_json::from_slice(body) {
        return Some(document);
    }
    let text = std::str::from_utf8(body).ok()?;
    if text.trim_start().starts_with(['<', '{', '[']) || !text.contains('=') {
        return None;
    }
    let document: Map<String, Value> = url::form_urlencoded::parse(text.trim().as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    (document.contains_key("access_token") || document.contains_key("error")).then_some(document)
}

/// The same request with its form body as a JSON object (Notion, Atlassian).
fn json_request(request: oauth2::HttpRequest) -> oauth2::HttpRequest {
    let (mut parts, body) = request.into_parts();
    let document: Map<String, Value> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    parts.headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    parts.headers.remove(http::header::CONTENT_LENGTH);
    oauth2::HttpRequest::from_parts(parts, serde_json::to_vec(&document).expect("a JSON object serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(shape: TokenResponseShape, codes: &'static BTreeMap<String, String>) -> TokenEndpoint {
        TokenEndpoint {
            http: HttpClient::new().unwrap(),
            request_format: TokenRequestFormat::Form,
            response_shape: shape,
            error_codes: Some(codes),
        }
    }

    fn answer(status: u16, content_type: &str, body: &str) -> oauth2::HttpResponse {
        http::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    fn normalized(shape: TokenResponseShape, response: oauth2::HttpResponse) -> (u16, Value) {
        static CODES: std::sync::LazyLock<BTreeMap<String, String>> = std::sync::LazyLock::new(|| {
            BTreeMap::from([("bad_verification_code".to_owned(), "invalid_grant".to_owned())])
        });
        let out = endpoint(shape, &CODES).normalize(response);
        (out.status().as_u16(), serde_json::from_slice(out.body()).unwrap())
    }

    /// A 200 JSON answer, normalized for `shape`.
    fn json_answer(shape: TokenResponseShape, body: &str) -> (u16, Value) {
        normalized(shape, answer(200, "application/json", body))
    }

    #[test]
    fn github_form_answers_errors_with_200_and_comma_scopes() {
        let (status, body) = normalized(
            TokenResponseShape::Github,
            answer(
                200,
                "application/x-www-form-urlencoded",
                "access_token=gho_x&scope=repo%2Cgist&token_type=bearer",
            ),
        );
        assert_eq!(status, 200);
        assert_eq!(body["scope"], "repo gist");
        let (status, body) = json_answer(
            TokenResponseShape::Github,
            r#"{"error":"bad_verification_code","error_description":"expired"}"#,
        );
        assert_eq!(status, 400);
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(body["error_description"], "bad_verification_code: expired");
    }

    #[test]
    fn an_error_with_200_is_an_error_and_a_token_is_not() {
        assert_eq!(json_answer(TokenResponseShape::Standard, r#"{"error":"invalid_grant"}"#).0, 400);
        let (status, _) = json_answer(TokenResponseShape::Standard, r#"{"access_token":"x","error":"none"}"#);
        assert_eq!(status, 200);
    }

    #[test]
    fn slack_user_tokens_come_out_of_authed_user() {
        let (status, body) = json_answer(
            TokenResponseShape::SlackV2,
            r#"{"ok":true,"access_token":"xoxb-bot","authed_user":{"id":"U1","scope":"search:read,users:read","access_token":"xoxp-user","token_type":"user"},"team":{"id":"T1"}}"#,
        );
        assert_eq!(status, 200);
        assert_eq!(body["access_token"], "xoxp-user");
        assert_eq!(body["scope"], "search:read users:read");
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["team"]["id"], "T1");
        let (status, body) =
            json_answer(TokenResponseShape::SlackV2, r#"{"ok":false,"error":"invalid_code"}"#);
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_code")));
    }

    #[test]
    fn a_missing_token_type_is_bearer_and_another_type_is_kept() {
        let (_, body) = json_answer(TokenResponseShape::Standard, r#"{"access_token":"x"}"#);
        assert_eq!(body["token_type"], "bearer");
        let (_, body) =
            json_answer(TokenResponseShape::Standard, r#"{"access_token":"x","token_type":"DPoP"}"#);
        assert_eq!(body["token_type"], "DPoP", "left for the grant to refuse");
        let (_, body) =
            json_answer(TokenResponseShape::Standard, r#"{"access_token":"x","token_type":"user"}"#);
        assert_eq!(body["token_type"], "user", "only Slack's user tokens are bearer tokens");
    }

    #[test]
    fn lifetimes_and_scopes_sent_as_other_json_types_are_read() {
        let lifetime = |sent: &str| {
            let body = format!(r#"{{"access_token":"x","expires_in":{sent}}}"#);
            json_answer(TokenResponseShape::Standard, &body).1["expires_in"].clone()
        };
        assert_eq!(lifetime("3599.7"), 3599);
        assert_eq!(lifetime(r#"" 3600 ""#), 3600);
        assert_eq!(lifetime(r#""3600.0""#), 3600);
        for unusable in ["-5", r#""-5""#, "true", r#""soon""#, r#""NaN""#, "[3600]"] {
            assert_eq!(lifetime(unusable), Value::Null, "{unusable} is left out, as if not sent");
        }
        let (_, body) =
            json_answer(TokenResponseShape::Standard, r#"{"access_token":"x","scope":["openid","email"]}"#);
        assert_eq!(body["scope"], "openid email");
    }

    #[test]
    fn html_and_garbage_pass_through_for_the_parser_to_refuse() {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        let out = endpoint(TokenResponseShape::Standard, &NONE).normalize(answer(
            200,
            "text/html",
            "<html>login</html>",
        ));
        let (status, body) = (out.status().as_u16(), out.body().clone());
        assert_eq!((status, body.as_slice()), (200, b"<html>login</html>".as_slice()));
    }
}
