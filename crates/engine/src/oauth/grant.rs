//! A token endpoint's successful answer — to a code, a device code or a refresh token —
//! read once, the same way for each.

use std::time::Duration;

use oauth2::TokenResponse;

use super::client::{TokenExtras, TokenResponseWithId};
use super::id_token::{Expected, SigningKeys};
use crate::http::HttpClient;
use crate::provider::ProviderRecord;
use crate::vault::TokenSet;
use crate::{Error, Result, Secret};

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
    /// The grant in a token response; an empty access token is the provider's error.
    pub(crate) fn from_answer(response: &TokenResponseWithId, provider: &str) -> Result<Grant> {
        let access_token = response.access_token().secret();
        if access_token.is_empty() {
            return Err(Error::ProviderError {
                provider: provider.to_owned(),
                detail: "the token response has an empty access_token".into(),
            });
        }
        let extras = response.extra_fields().clone();
        let tokens = TokenSet::oauth(
            Secret::new(access_token.clone()),
            response.refresh_token().map(|t| Secret::new(t.secret().clone())),
            extras.id_token().map(|t| Secret::new(t.to_owned())),
        );
        Ok(Grant {
            tokens,
            scopes: response.scopes().map(|scopes| scopes.iter().map(|s| s.to_string()).collect()),
            expires_in: response.expires_in(),
            extras,
        })
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
        let mut grant = Grant::from_answer(response, &provider.name)?;
        if let Some(id_token) = grant.tokens.id_token.as_ref().filter(|_| provider.checks_id_tokens()) {
            let keys = SigningKeys::fetch(provider, http).await?;
            keys.check(id_token, provider, client_secret, expected).map_err(|e| Error::ProviderError {
                provider: provider.name.clone(),
                detail: e.to_string(),
            })?;
        }
        grant.scopes.get_or_insert_with(|| requested.to_vec());
        Ok(grant)
    }

    /// The granted scopes; empty when neither the answer nor the request named any.
    pub fn granted_scopes(&self) -> &[String] {
        self.scopes.as_deref().unwrap_or_default()
    }
}
