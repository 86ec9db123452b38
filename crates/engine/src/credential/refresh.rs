//! Tokens for the person's tools, refreshed when needed — exactly once, even when the
//! app and several `grantkeeper` processes ask at the same moment: rotating refresh
//! tokens are revoked by the provider if two refreshes present the same one.

use std::collections::HashMap;
use std::fs::File;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2::basic::BasicErrorResponseType;
use oauth2::{RefreshToken, RequestTokenError, TokenResponse};

use crate::api::EventKind;
use crate::api::{Connection, ConnectionStatus};
use crate::catalog::RefreshTokens;
use crate::oauth::{
    oauth_client, require_access_token, token_endpoint, token_error, tokens_of, Expected, IdTokenError,
    SigningKeys,
};
use crate::provider::ProviderRecord;
use crate::runtime::{refresh_due, CHECK_INTERVAL};
use crate::store::{CredentialRecord, NewEvent, RecordedRefresh};
use crate::time_text::{now, parse, rfc3339};
use crate::vault::{new_token_key, TokenSet};
use crate::{Engine, EngineEvent, Error, Result, Secret};

const TOKENS_MISSING: &str = "its tokens are missing from the keychain";

/// One async lock per credential, for refreshes within this process.
#[derive(Default)]
pub(crate) struct RefreshLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl RefreshLocks {
    fn for_credential(&self, credential_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(credential_id.to_owned()).or_default().clone()
    }
}

impl Engine {
    /// The connection's access token, valid for at least `min_ttl`: refreshed first
    /// when it would expire sooner.
    pub async fn access_token(&self, key: &str, min_ttl: Duration) -> Result<(Connection, Secret)> {
        let connection = self.connection(key)?;
        let credential = self.credential_of(&connection)?;
        // No expiry given: valid until the provider says otherwise.
        let lasts = credential.expires_at.as_deref().and_then(parse).is_none_or(|at| at - now() > min_ttl);
        let tokens = if lasts {
            self.stored_tokens(&connection, &credential).await?
        } else {
            self.refresh(&connection, credential).await?
        };
        Ok((self.connection(&connection.id)?, tokens.access_token))
    }

    /// Refreshes now ("Refresh now", `grantkeeper refresh`), through the same
    /// single-flight path as [`Engine::access_token`].
    pub async fn refresh_now(&self, key: &str) -> Result<Connection> {
        let connection = self.connection(key)?;
        let credential = self.credential_of(&connection)?;
        self.refresh(&connection, credential).await?;
        self.connection(&connection.id)
    }

    fn credential_of(&self, connection: &Connection) -> Result<CredentialRecord> {
        let credential = self.store.credential(&self.store.credential_id_of(&connection.id)?)?;
        if credential.status == ConnectionStatus::Reauthorize {
            return Err(Error::NeedsReauthorization {
                connection: connection.name.clone(),
                reason: credential
                    .status_reason
                    .unwrap_or_else(|| "the provider no longer accepts it".into()),
            });
        }
        Ok(credential)
    }

    pub(crate) async fn stored_tokens(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
    ) -> Result<TokenSet> {
        match self.vault.read_tokens(&credential.token_secret_key).await? {
            Some(tokens) => Ok(tokens),
            None => self.needs_reauthorization(connection, credential, TOKENS_MISSING),
        }
    }

    /// On start: a credential whose tokens are gone from the keychain (deleted by hand,
    /// or a process killed between writes) becomes Reauthorize now rather than at its
    /// next use, a refresh a killed process left half done is settled, replaced
    /// keychain entries a killed process did not get to delete are deleted, and credentials
    /// that never expire are checked with their provider soon. Does nothing when the
    /// keychain cannot be read.
    pub async fn repair(&self) -> Result<()> {
        self.store.check_unexpiring_soon(&rfc3339(now()))?;
        for key in self.store.stale_secrets()? {
            self.delete_replaced_secret(&key).await?;
        }
        for credential in self.store.usable_credentials()? {
            if credential.pending_token_key.is_some() {
                if let Some(connection) = self.store.a_connection_of(&credential.id)? {
                    // Settled through the refresh path, which takes the locks first.
                    let _ = self.refresh(&self.decorate(connection), credential.clone()).await;
                }
                continue;
            }
            if self.vault.read(&credential.token_secret_key).await?.is_some() {
                continue;
            }
            if let Some(connection) = self.store.a_connection_of(&credential.id)? {
                tracing::warn!(credential_id = %credential.id, "tokens missing from the keychain");
                // It returns the error a caller would get; here the marking is what counts.
                let _: Result<()> = self.needs_reauthorization(&connection, &credential, TOKENS_MISSING);
            }
        }
        Ok(())
    }

    /// Refreshes unless someone else did since `seen` was read; either way returns the
    /// credential's current tokens.
    pub(crate) async fn refresh(&self, connection: &Connection, seen: CredentialRecord) -> Result<TokenSet> {
        let in_process = self.refresh_locks.for_credential(&seen.id);
        let _in_process = in_process.lock().await;
        let _across_processes = self.lock_credential_file(&seen.id).await?;
        let credential = self.credential_of(connection)?;
        if credential.token_secret_key != seen.token_secret_key {
            return self.stored_tokens(connection, &credential).await;
        }
        if credential.key_fields.is_some() {
            return Err(Error::InvalidInput {
                field: None,
                message: format!("“{}” uses an API key, which does not expire or refresh.", connection.name),
            });
        }
        let provider = self.provider_record(&credential.provider_id)?;
        if let Some(pending) = credential.pending_token_key.clone() {
            if let Some(tokens) =
                self.settle_interrupted_refresh(connection, &credential, &provider, &pending).await?
            {
                return Ok(tokens);
            }
        }
        let old = self.stored_tokens(connection, &credential).await?;
        let Some(refresh_token) = old.refresh_token.clone() else {
            return Err(Error::TokenExpired { connection: connection.name.clone() });
        };
        let client_secret = self.client_secret(&provider).await?;
        let client = oauth_client(&provider, client_secret.clone())?;
        // Fetched before the refresh token leaves: a refreshed ID token that could not be
        // checked would be dropped with a possibly rotated refresh token.
        // Only a grant with `openid` brings ID tokens (GitLab's is optional): the others
        // do not depend on the keys being reachable.
        let openid = old.id_token.is_some() || credential.scopes.iter().any(|s| s == "openid");
        let keys = match provider.checks_id_tokens() && openid {
            true => Some(SigningKeys::fetch(&provider, &self.http).await?),
            false => None,
        };
        // Recorded before the refresh token leaves: if this process dies before the
        // answer is saved, the next one knows the old token may be spent.
        let new_key = new_token_key(&credential.id);
        self.store.begin_refresh(&credential.id, &new_key)?;
        let answer = client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_owned()))
            .request_async(&token_endpoint(&provider, &self.http))
            .await;
        if answer.is_err() {
            self.store.end_refresh(&credential.id)?;
        }
        let response = match answer {
            Ok(response) => response,
            Err(RequestTokenError::ServerResponse(response)) => {
                let detail = match response.error_description() {
                    Some(text) => format!("{} ({})", response.error(), crate::error::provider_text(text)),
                    None => response.error().to_string(),
                };
                return match response.error() {
                    BasicErrorResponseType::InvalidGrant => {
                        let reason = format!("{} said the grant is no longer valid: {detail}", provider.name);
                        self.needs_reauthorization(connection, &credential, &reason)
                    }
                    BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => {
                        // The provider app, not the grant: the tokens stay, and the
                        // provider app shows what to fix.
                        let error = Error::ProviderAppRejected { provider: provider.name.clone(), detail };
                        self.store.flag_provider_app(&provider.id, &error.to_string())?;
                        self.events.publish(EngineEvent::ProvidersChanged);
                        Err(error)
                    }
                    _ => Err(Error::ProviderError { provider: provider.name.clone(), detail }),
                };
            }
            Err(other) => {
                let token_url = url::Url::parse(&provider.token_url).expect("validated when stored");
                return Err(token_error(other, &provider.name, &token_url));
            }
        };
        if let Err(error) = require_access_token(&response, &provider.name) {
            self.store.end_refresh(&credential.id)?;
            return Err(error);
        }

        let mut tokens = tokens_of(&response);
        // An ID token that could not be checked is not kept.
        if keys.is_none() && provider.checks_id_tokens() {
            tokens.id_token = None;
        }
        if let (Some(keys), Some(id_token)) = (&keys, &tokens.id_token) {
            let expected = Expected::Refresh { previous: old.id_token.as_ref() };
            if let Err(refusal) = keys.check(id_token, &provider, client_secret.as_ref(), expected) {
                self.store.end_refresh(&credential.id)?;
                return self.refused_refresh(connection, &credential, &provider, refusal);
            }
        }
        // A provider that does not rotate sends no new refresh token: keep the old one.
        tokens.refresh_token = tokens.refresh_token.or(old.refresh_token);
        tokens.id_token = tokens.id_token.or(old.id_token);
        let at = now();
        self.vault.write_tokens(&new_key, &tokens).await?;
        let recorded = self.store.record_refresh(&RecordedRefresh {
            credential_id: credential.id.clone(),
            previous_key: credential.token_secret_key.clone(),
            new_key: new_key.clone(),
            expires_at: response
                .expires_in()
                .and_then(|d| time::Duration::try_from(d).ok())
                .map(|d| rfc3339(at + d)),
            at: rfc3339(at),
            scopes: response.scopes().map(|scopes| scopes.iter().map(|s| s.to_string()).collect()),
            refresh_due_at: match response.expires_in() {
                Some(lifetime) => tokens.refresh_token.is_some().then(|| rfc3339(refresh_due(at, lifetime))),
                None => Some(rfc3339(at + CHECK_INTERVAL)),
            },
            refresh_token_expires_at: response
                .extra_fields()
                .refresh_token_lifetime()
                .and_then(|lifetime| time::Duration::try_from(lifetime).ok())
                .map(|lifetime| rfc3339(at + lifetime)),
        });
        match recorded {
            Ok(true) => {}
            // Another process replaced the tokens while we held no lock on them
            // (a reconnect): ours are unused.
            Ok(false) => {
                let _ = self.vault.delete(&new_key).await;
                return Err(Error::Internal("the connection changed during its refresh; try again".into()));
            }
            // Keep the new entry: it may hold the only valid (rotated) refresh token.
            Err(error) => return Err(error),
        }
        self.delete_replaced_secret(&credential.token_secret_key).await?;
        if self.store.clear_provider_app_attention(&provider.id)? {
            self.events.publish(EngineEvent::ProvidersChanged);
        }
        self.store.record_event(&NewEvent {
            kind: EventKind::CredentialRefreshed,
            at: &rfc3339(at),
            credential_id: Some(&credential.id),
            connection_id: None,
            subject: None,
            detail: None,
        })?;
        self.events.publish(EngineEvent::ConnectionsChanged);
        Ok(tokens)
    }

    /// A refresh whose ID token was refused (OpenID Connect Core §12.2): its tokens are
    /// dropped and the stored ones kept. An ID token the provider signed for another
    /// account says the grant is no longer this credential's: Reauthorize, and no token
    /// of it is handed out. Any other refusal is an error for the retry schedule, unless
    /// the provider rotates refresh tokens: then the stored one may be spent, and
    /// presenting it again would make the provider revoke the grant.
    fn refused_refresh<T>(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        provider: &ProviderRecord,
        refusal: IdTokenError,
    ) -> Result<T> {
        tracing::warn!(credential_id = %credential.id, %refusal, "refreshed tokens refused");
        let may_rotate = provider.spec.is_none() || provider.refresh_tokens() == RefreshTokens::Rotating;
        match refusal {
            IdTokenError::OtherAccount => {
                let reason = format!(
                    "{}'s refreshed ID token names another account than the one that signed in, so its tokens were not used",
                    provider.name
                );
                self.needs_reauthorization(connection, credential, &reason)
            }
            IdTokenError::Refused(detail) if may_rotate => {
                let reason = format!(
                    "{}'s refreshed ID token was refused ({detail}), and the refresh token it replaced may no longer be valid",
                    provider.name
                );
                self.needs_reauthorization(connection, credential, &reason)
            }
            refused @ IdTokenError::Refused(_) => {
                Err(Error::ProviderError { provider: provider.name.clone(), detail: refused.to_string() })
            }
        }
    }

    /// A refresh that a dead process started (the caller holds both locks). Its tokens
    /// are adopted if they reached the keychain. Otherwise the provider may already
    /// have answered and, if it rotates refresh tokens, retired the old one: presenting
    /// it again would make the provider revoke the whole grant, so the person signs in
    /// again instead. A provider that keeps refresh tokens just gets a fresh attempt
    /// (None: go on refreshing).
    async fn settle_interrupted_refresh(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        provider: &ProviderRecord,
        pending: &str,
    ) -> Result<Option<TokenSet>> {
        if let Some(tokens) = self.vault.read_tokens(pending).await? {
            tracing::info!(credential_id = %credential.id, "adopting the tokens of an interrupted refresh");
            self.store.adopt_pending(&credential.id, pending)?;
            self.delete_replaced_secret(&credential.token_secret_key).await?;
            self.events.publish(EngineEvent::ConnectionsChanged);
            return Ok(Some(tokens));
        }
        let may_rotate = provider.spec.is_none() || provider.refresh_tokens() == RefreshTokens::Rotating;
        if may_rotate {
            let reason = "a refresh was interrupted before its answer was saved, and the provider may have retired the old refresh token";
            return self.needs_reauthorization(connection, credential, reason);
        }
        self.store.end_refresh(&credential.id)?;
        Ok(None)
    }

    /// Deletes a keychain entry that newer tokens replaced (the database noted it when
    /// it switched), and the note.
    pub(crate) async fn delete_replaced_secret(&self, key: &str) -> Result<()> {
        self.vault.delete(key).await?;
        self.store.forget_secret(key)
    }

    pub(crate) fn needs_reauthorization<T>(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        reason: &str,
    ) -> Result<T> {
        self.store.mark_reauthorize(&credential.id, reason)?;
        self.store.record_event(&NewEvent {
            kind: EventKind::NeedsReauthorization,
            at: &rfc3339(now()),
            credential_id: Some(&credential.id),
            connection_id: None,
            subject: None,
            detail: Some(reason),
        })?;
        self.events.publish(EngineEvent::ConnectionsChanged);
        Err(Error::NeedsReauthorization { connection: connection.name.clone(), reason: reason.to_owned() })
    }

    /// An exclusive lock on `locks/<credential>.lock` in the data directory, shared by
    /// every Grantkeeper process; released when the returned file is dropped.
    async fn lock_credential_file(&self, credential_id: &str) -> Result<File> {
        let dir = self.config.home.join("locks");
        let path = dir.join(format!("{credential_id}.lock"));
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let file = File::options().create(true).truncate(false).write(true).open(&path)?;
            file.lock()?;
            Ok::<_, std::io::Error>(file)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(|e| Error::Storage { path: self.config.home.display().to_string(), reason: e.to_string() })
    }
}
