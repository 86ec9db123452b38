//! Sending a credential's refresh token, with the marker that lets a later process know
//! it may be spent, and checking the ID token that comes back.

use crate::api::Connection;
use crate::oauth::{current_signing_keys, refresh_grant, Expected, Grant, RefreshRefused};
use crate::provider::ProviderRecord;
use crate::store::CredentialRecord;
use crate::vault::{new_token_key, TokenSet};
use crate::{Engine, Error, Result};

/// A refresh's answer, checked, and the keychain entry its tokens are to go to.
pub(super) struct Refreshed {
    pub grant: Grant,
    pub new_key: String,
}

impl Engine {
    /// Redeems the refresh token in `old` (the caller holds both refresh locks). A
    /// refusal moves the credential where the provider's answer says.
    pub(super) async fn exchange_refresh_token(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        provider: &ProviderRecord,
        old: &TokenSet,
    ) -> Result<Refreshed> {
        let Some(refresh_token) = &old.refresh_token else {
            return Err(Error::TokenExpired { connection: connection.name.clone() });
        };
        let client_secret = self.client_secret(provider).await?;
        // Fetched before the refresh token leaves: a refreshed ID token that could not be
        // checked would be dropped with a possibly rotated refresh token.
        // Only a grant with `openid` brings ID tokens (GitLab's is optional): the others
        // do not depend on the keys being reachable.
        let openid = old.id_token.is_some() || credential.scopes.iter().any(|s| s == "openid");
        let keys = match provider.checks_id_tokens() && openid {
            true => Some(current_signing_keys(provider, &self.http).await?),
            false => None,
        };
        // Recorded before the refresh token leaves: if this process dies before the
        // answer is saved, the next one knows the old token may be spent.
        let new_key = new_token_key(&credential.id);
        self.store.begin_refresh(&credential.id, &new_key)?;
        let mut grant = match refresh_grant(provider, client_secret.clone(), refresh_token, &self.http).await
        {
            Ok(grant) => grant,
            // As after a process killed mid-refresh: a provider that may rotate is never
            // shown this refresh token again; one that does not is simply tried later.
            Err(RefreshRefused::Unanswered(error)) => {
                let why = "a refresh got no usable answer";
                self.settle_unsaved_refresh(connection, credential, provider, &new_key, why).await?;
                return Err(error);
            }
            Err(refused) => {
                self.store.end_refresh(&credential.id)?;
                return self.refresh_refused(connection, credential, provider, refused);
            }
        };
        // An ID token that could not be checked is not kept.
        if keys.is_none() && provider.checks_id_tokens() {
            grant.tokens.id_token = None;
        }
        if let (Some(keys), Some(id_token)) = (&keys, &grant.tokens.id_token) {
            let expected = Expected::Refresh { previous: old.id_token.as_ref() };
            if let Err(refusal) = keys.check(id_token, provider, client_secret.as_ref(), expected) {
                self.store.end_refresh(&credential.id)?;
                return self.id_token_refused(connection, credential, provider, refusal);
            }
        }
        Ok(Refreshed { grant, new_key })
    }
}
