//! What a 403's `WWW-Authenticate` asks for (RFC 6750 §3.1, the MCP authorization
//! specification's step-up): `Bearer error="insufficient_scope", scope="a b"`. The
//! challenge grammar (several challenges, quoted strings with escapes) is parsed by the
//! engine's `BearerChallenge`, which uses the `http-auth` crate.

use grantkeeper_engine::oauth::BearerChallenge;
use reqwest::header::HeaderMap;

/// The scopes an `insufficient_scope` challenge names (maybe none); None when the
/// response carries no such challenge.
pub fn insufficient_scope(headers: &HeaderMap) -> Option<Vec<String>> {
    let challenge = BearerChallenge::from_headers(headers)?;
    (challenge.error.as_deref() == Some("insufficient_scope")).then_some(challenge.scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(WWW_AUTHENTICATE, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn reads_the_scopes_asked_for() {
        let asked = insufficient_scope(&headers(&[
            r#"Bearer error="insufficient_scope", scope="files:read  files:write", error_description="needs \"files:write\"""#,
        ]));
        assert_eq!(asked.unwrap(), ["files:read", "files:write"]);
    }

    #[test]
    fn finds_bearer_among_several_challenges_in_any_case() {
        let one_header =
            r#"Basic realm="a, b", bEaReR realm="mcp", error="insufficient_scope", scope="admin""#;
        assert_eq!(insufficient_scope(&headers(&[one_header])).unwrap(), ["admin"]);
        let two_headers = [r#"Basic realm="x""#, r#"Bearer scope="x:y", error=insufficient_scope"#];
        assert_eq!(insufficient_scope(&headers(&two_headers)).unwrap(), ["x:y"]);
    }

    #[test]
    fn a_quoted_comma_or_escape_stays_inside_its_value() {
        let asked = insufficient_scope(&headers(&[
            r#"Bearer error="insufficient_scope", scope="a,b \"c\"", realm="r""#,
        ]));
        assert_eq!(asked.unwrap(), ["a,b", "\"c\""]);
    }

    #[test]
    fn other_challenges_ask_for_nothing() {
        assert_eq!(insufficient_scope(&headers(&[r#"Bearer error="invalid_token""#])), None);
        assert_eq!(insufficient_scope(&headers(&[r#"Basic realm="insufficient_scope""#])), None);
        assert_eq!(insufficient_scope(&headers(&[r#"Bearer error="insufficient_scope"#])), None);
        assert_eq!(insufficient_scope(&HeaderMap::new()), None);
        assert_eq!(
            insufficient_scope(&headers(&[r#"Bearer error="insufficient_scope""#])).unwrap(),
            [] as [&str; 0]
        );
    }
}
