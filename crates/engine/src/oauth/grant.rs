//! A token endpoint's successful answer — to a code, a device code or a refresh token —
//! read once, the same way for each.

use std::time::Duration;

use oauth2::basic::BasicTokenType;
use oauth2::TokenResponse;

use super::client::{TokenExtras, TokenResponseWithId};
use super::id_token::{Expected, SigningKeys};
use crate::http::HttpClient;
use crate::provider::ProviderRecord;
use crate::vault::TokenSet;
use crate::{Error, Result, Secret};

/// The longest token lifetime taken as given (100 years); a longer one is as good as
/// none, and the token is treated as not expiring. Connect and refresh add lifetimes to
/// the current time, which fails past the last date `time` can hold.
const LONGEST_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// A lifetime a token endpoint gave, where it is one Grantkeeper can keep.
pub(super) fn taken_lifetime(lifetime: Duration) -> Option<Duration> {
    (lifetime <= LONGEST_LIFETIME).then_some(lifetime)
}

/// What a token endpoint granted.
pub struct Grant {
    /// A missing refresh or ID token stays `None`.
    pub tokens: TokenSet,
    /// The scopes the answer names; `None` when it names none, which RFC 6749 §5.1 reads
    /// as "as requested" (see [`Grant::of_sign_in`]) and a refresh as "unchanged".
    pub scopes: Option<Vec<String>>,
    pub expires_in: Option<Duration>,
    /// The rest of the token response (may name the account; may hold secrets).
    pub extras: TokenExtras,
}

impl Grant {
    /// The grant in a token response; an empty access token is the provider's error, and
    /// a token that is not a bearer token (RFC 6750) is one Grantkeeper cannot hand out.
    pub(crate) fn from_answer(response: &TokenResponseWithId, provider: &str) -> Result<Grant> {
        let refused = |detail: String| Error::ProviderError { provider: provider.to_owned(), detail };
        let access_token = response.access_token().secret();
        if access_token.is_empty() {
            return Err(refused("the token response has an empty access_token".into()));
        }
        // No request header could carry it, and `token` would print more than one line.
        let unusable = |token: &str| !Secret::new(token).is_one_word();
        if unusable(access_token) || response.refresh_token().is_some_and(|t| unusable(t.secret())) {
            return Err(refused(
                "its token has a space or a line break in it, which no request can carry; nothing was saved"
                    .into(),
            ));
        }
        if *response.token_type() != BasicTokenType::Bearer {
            return Err(refused(format!(
                "it issued a “{}” token, and Grantkeeper can only use bearer tokens; nothing was saved. \
                 Turn off sender-constrained tokens (DPoP, mTLS) for this provider app",
                crate::error::provider_text(response.token_type().as_ref())
            )));
        }
        let extras = response.extra_fields().clone();
        let tokens = TokenSet::oauth(
            Secret::new(access_token.clone()),
            response.refresh_token().map(|t| Secret::new(t.secret().clone())),
            extras.id_token().map(|t| Secret::new(t.to_owned())),
        );
        Ok(Grant {
            tokens,
            scopes: response.scopes().map(|scopes| printable_scopes(scopes.iter().map(|s| s.as_str()))),
            expires_in: response.expires_in().and_then(taken_lifetime),
            extras,
        })
    }

    /// The lifetime the provider's catalog entry assumes where the answer gave none.
    pub(crate) fn with_assumed_lifetime(mut self, provider: &ProviderRecord) -> Self {
        if self.expires_in.is_none() {
            self.expires_in = provider.spec.and_then(|s| s.assumed_lifetime_secs).map(Duration::from_secs);
        }
        self
    }

    /// A sign-in's grant (by code or device code): its ID token checked, where the
    /// provider sent one and its ID tokens are checked, before anything is kept; and the
    /// scopes it asked for where the answer names none.
    pub(crate) async fn of_sign_in(
        response: &TokenResponseWithId,
        provider: &ProviderRecord,
        client_secret: Option<&Secret>,
        expected: Expected<'_>,
        requested: &[String],
        http: &HttpClient,
    ) -> Result<Grant> {
        let mut grant = Grant::from_answer(response, &provider.name)?.with_assumed_lifetime(provider);
        if let Some(id_token) = grant.tokens.id_token.as_ref().filter(|_| provider.checks_id_tokens()) {
            let check = |keys: &SigningKeys| keys.check(id_token, provider, client_secret, expected);
            super::check_with_keys(provider, http, check).await?.map_err(|e| Error::ProviderError {
                provider: provider.name.clone(),
                detail: e.to_string(),
            })?;
        }
        grant.scopes.get_or_insert_with(|| requested.to_vec());
        Ok(grant)
    }

    /// The fields of the answer the provider's catalog entry keeps with the credential
    /// (`kept_token_fields`), where the answer names them as text.
    pub fn kept_fields(&self, provider: &ProviderRecord) -> std::collections::BTreeMap<String, String> {
        let names = provider.spec.map(|s| s.kept_token_fields.as_slice()).unwrap_or_default();
        names
            .iter()
            .filter_map(|name| {
                let value = self.extras.fields.get(name)?.as_str()?;
                Some((name.clone(), crate::error::provider_text(value)))
            })
            .collect()
    }

    /// The granted scopes; empty when neither the answer nor the request named any.
    pub fn granted_scopes(&self) -> &[String] {
        self.scopes.as_deref().unwrap_or_default()
    }
}

/// The scopes a provider says it granted that are scope tokens (RFC 6749 §3.3: printable
/// ASCII, no quote or backslash), at most `LIMIT` of them: granted scopes are stored and
/// printed, and no real provider sends anything else.
fn printable_scopes<'a>(scopes: impl Iterator<Item = &'a str>) -> Vec<String> {
    const LIMIT: usize = 500;
    let scope_token = |scope: &&str| {
        !scope.is_empty()
            && scope.len() <= 1024
            && scope.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
    };
    scopes.filter(scope_token).take(LIMIT).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> TokenResponseWithId {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn only_bearer_tokens_are_granted() {
        for bearer in ["Bearer", "bearer", "BEARER"] {
            let json = format!(r#"{{"access_token":"x","token_type":"{bearer}"}}"#);
            assert!(Grant::from_answer(&answer(&json), "P").is_ok(), "{bearer}");
        }
        let error =
            Grant::from_answer(&answer(r#"{"access_token":"x","token_type":"DPoP"}"#), "P").err().unwrap();
        assert!(error.to_string().contains("“dpop” token"), "{error}");
    }

    #[test]
    fn lifetimes_past_any_date_count_as_none() {
        // Caught by fuzz/fuzz_targets/token_response.rs: the `oauth2` crate reads a JSON
        // answer with bytes after it, which the quirks layer leaves as it is, so the
        // lifetime is capped where it is read rather than where it is normalised.
        let json = r#"{"access_token":"x","token_type":"bearer","expires_in":99999999999999,"refresh_token_expires_in":"18446744073709551615"}9999"#;
        let response = <TokenResponseWithId as serde::Deserialize>::deserialize(
            &mut serde_json::Deserializer::from_str(json),
        )
        .unwrap();
        let grant = Grant::from_answer(&response, "P").unwrap();
        assert_eq!((grant.expires_in, grant.extras.refresh_token_lifetime()), (None, None));
        let grant = Grant::from_answer(&answer(r#"{"access_token":"x","token_type":"bearer","expires_in":28800,"refresh_token_expires_in":15811200}"#), "P").unwrap();
        assert_eq!(
            (grant.expires_in, grant.extras.refresh_token_lifetime()),
            (Some(Duration::from_secs(28800)), Some(Duration::from_secs(15811200)))
        );
    }

    #[test]
    fn granted_scopes_are_scope_tokens() {
        let json = "{\"access_token\":\"x\",\"token_type\":\"bearer\",\"scope\":\"repo \\u001b[2Jevil gist \\\"q\\\"\"}";
        let grant = Grant::from_answer(&answer(json), "P").unwrap();
        assert_eq!(grant.granted_scopes(), ["repo", "gist"]);
    }
}
