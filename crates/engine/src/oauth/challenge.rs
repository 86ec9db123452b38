//! A resource server's `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3), with the
//! parameters the MCP authorization specification adds: where its protected resource
//! metadata is (RFC 9728 §5.1) and which scopes it wants.

/// What a Bearer challenge says. Values are as the server sent them; callers treat them
/// as untrusted text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// `invalid_token`, `insufficient_scope`, `invalid_request`, or None.
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The scopes the server asks for (space-separated in the header).
    pub scopes: Vec<String>,
    /// The URL of its protected resource metadata.
    pub resource_metadata: Option<String>,
}

impl BearerChallenge {
    /// The first Bearer challenge among the `WWW-Authenticate` header values, if any
    /// parses; a header that does not parse counts as no challenge.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<BearerChallenge> {
        headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(BearerChallenge::parse)
    }

    /// The Bearer challenge in one header value.
    pub fn parse(value: &str) -> Option<BearerChallenge> {
        // A bare "Bearer" (no parameters) is a challenge too; the parser wants a list.
        if value.trim().eq_ignore_ascii_case("bearer") {
            return Some(BearerChallenge::default());
        }
        let challenges = http_auth::parse_challenges(value).ok()?;
        let bearer = challenges.into_iter().find(|c| c.scheme.eq_ignore_ascii_case("bearer"))?;
        let param = |name: &str| {
            bearer
                .params
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_unescaped())
        };
        Some(BearerChallenge {
            error: param("error"),
            error_description: param("error_description"),
            scopes: param("scope")
                .map(|s| s.split_whitespace().map(String::from).collect())
                .unwrap_or_default(),
            resource_metadata: param("resource_metadata"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parameters_of_the_bearer_challenge() {
        let challenge = BearerChallenge::parse(
            r#"Basic realm="x", Bearer error="insufficient_scope", scope="mcp:tools  mcp:admin", resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp", error_description="needs \"admin\"""#,
        )
        .unwrap();
        assert_eq!(challenge.error.as_deref(), Some("insufficient_scope"));
        assert_eq!(challenge.scopes, ["mcp:tools", "mcp:admin"]);
        assert_eq!(
            challenge.resource_metadata.as_deref(),
            Some("https://a.example/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(challenge.error_description.as_deref(), Some("needs \"admin\""));
    }

    #[test]
    fn a_bare_or_lowercase_bearer_is_a_challenge_and_others_are_not() {
        assert_eq!(BearerChallenge::parse("Bearer"), Some(BearerChallenge::default()));
        assert_eq!(BearerChallenge::parse("bearer realm=\"r\"").unwrap().error, None);
        assert_eq!(BearerChallenge::parse("Basic realm=\"r\""), None);
        assert_eq!(BearerChallenge::parse("Bearer error=\"unterminated"), None);
    }
}
