//! Tokens for the person's tools, refreshed when needed — exactly once, even when the
//! app and several `grantkeeper` processes ask at the same moment: rotating refresh
//! tokens are revoked by the provider if two refreshes present the same one.
//!
//! A refresh takes the locks (`lock.rs`), settles one a killed process left half done
//! (`settle.rs`), sends the refresh token (`exchange.rs`) and records the answer (here).

mod exchange;
mod lock;
mod settle;

use std::time::Duration;

use exchange::Refreshed;
pub(in crate::credential) use lock::RefreshGuard;
pub(crate) use lock::RefreshLocks;

use super::save::GrantTimes;
use crate::api::{Connection, EventKind};
use crate::provider::ProviderRecord;
use crate::store::{CredentialKind, CredentialRecord, RecordedRefresh};
use crate::vault::TokenSet;
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error, Result, Secret};

/// Why a credential whose tokens are gone needs the person (its status reason).
const TOKENS_MISSING_REASON: &str = "its tokens are missing from the keychain, or unreadable there";

/// A provider whose tokens last less than this (some answer `expires_in: 0`) is asked
/// for new ones at most this often, by the scheduler and by `token` alike: otherwise
/// every answer would be due at once and refreshing would never stop.
const SHORTEST_REFRESH_GAP: Duration = Duration::from_secs(60);

/// Whether the credential was refreshed moments ago. Another refresh now would bring
/// tokens that last no longer (how long is the provider's choice), so its tokens are
/// handed out as they are: a `min_ttl` longer than the provider's lifetime, or a lifetime
/// under the gap, must not make every call refresh.
fn refreshed_moments_ago(credential: &CredentialRecord) -> bool {
    credential.last_refreshed_at.is_some_and(|at| {
        let since = Timestamp::now() - at;
        !since.is_negative() && since < SHORTEST_REFRESH_GAP
    })
}

impl Engine {
    /// The connection's access token, valid for at least `min_ttl`: refreshed first
    /// when it would expire sooner, unless it was refreshed moments ago (then it lasts as
    /// long as the provider's tokens do, which may be less).
    pub async fn access_token(&self, key: &str, min_ttl: Duration) -> Result<(Connection, Secret)> {
        let connection = self.connection(key)?;
        let credential = self.usable_credential(&connection)?;
        // No expiry given: valid until the provider says otherwise.
        let lasts = credential.times.expires_at.is_none_or(|at| at - Timestamp::now() > min_ttl)
            || refreshed_moments_ago(&credential);
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
        let credential = self.usable_credential(&connection)?;
        self.refresh(&connection, credential).await?;
        self.connection(&connection.id)
    }

    pub(crate) async fn stored_tokens(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
    ) -> Result<TokenSet> {
        match self.vault.read_tokens(&credential.token_secret_key).await? {
            Some(tokens) => Ok(tokens),
            None => self.needs_reauthorization(connection, credential, TOKENS_MISSING_REASON),
        }
    }

    /// Refreshes unless someone else did since `seen` was read; either way returns the
    /// credential's current tokens. Once begun, the refresh runs to its end even when
    /// the caller gives up (a program that left the token agent, a closed window's
    /// command): stopped between sending a rotating refresh token and saving the answer,
    /// it would leave the connection asking for a new sign-in.
    pub(crate) async fn refresh(&self, connection: &Connection, seen: CredentialRecord) -> Result<TokenSet> {
        let Some(engine) = self.me.upgrade() else {
            return Err(Error::Internal("Grantkeeper is shutting down".into()));
        };
        let connection = connection.clone();
        tokio::spawn(async move { engine.refresh_to_the_end(&connection, seen).await })
            .await
            .map_err(|e| Error::Internal(format!("a refresh stopped: {e}")))?
    }

    async fn refresh_to_the_end(&self, connection: &Connection, seen: CredentialRecord) -> Result<TokenSet> {
        let _locked = self.lock_refresh(&seen.id).await?;
        let credential = self.usable_credential(connection)?;
        if credential.token_secret_key != seen.token_secret_key {
            return self.stored_tokens(connection, &credential).await;
        }
        if let CredentialKind::ApiKey { .. } = credential.kind {
            return Err(Error::InvalidInput {
                field: None,
                message: format!("“{}” uses an API key, which does not expire or refresh.", connection.name),
            });
        }
        let provider = self.signed_in_provider(&credential)?;
        if let Some(pending) = credential.pending_token_key.clone() {
            let why = "a refresh was interrupted before its answer was saved";
            if let Some(tokens) =
                self.settle_unsaved_refresh(connection, &credential, &provider, &pending, why).await?
            {
                return Ok(tokens);
            }
        }
        let old = self.stored_tokens(connection, &credential).await?;
        let refreshed = self.exchange_refresh_token(connection, &credential, &provider, &old).await?;
        self.save_refreshed(&credential, &provider, refreshed, old).await
    }

    /// Keeps a refresh's tokens: keychain first, then the credential is pointed at them
    /// (unless another process changed it meanwhile), then the replaced entry goes.
    async fn save_refreshed(
        &self,
        credential: &CredentialRecord,
        provider: &ProviderRecord,
        Refreshed { mut grant, new_key }: Refreshed,
        old: TokenSet,
    ) -> Result<TokenSet> {
        // A provider that does not rotate sends no new refresh token: keep the old one.
        grant.tokens.refresh_token = grant.tokens.refresh_token.or(old.refresh_token);
        grant.tokens.id_token = grant.tokens.id_token.or(old.id_token);
        let at = Timestamp::now();
        let mut times = GrantTimes::of(&grant, at);
        let short_lived = grant.expires_in.filter(|lifetime| *lifetime < SHORTEST_REFRESH_GAP);
        if short_lived.is_some() {
            times.refresh_due_at = times.refresh_due_at.map(|_| at + SHORTEST_REFRESH_GAP);
        }
        self.vault.write_tokens(&new_key, &grant.tokens).await?;
        let token_details = grant.kept_fields(provider);
        let recorded = self.store.record_refresh(&RecordedRefresh {
            credential_id: credential.id.clone(),
            previous_key: credential.token_secret_key.clone(),
            new_key: new_key.clone(),
            at,
            times,
            scopes: grant.scopes,
            token_details,
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
        if self.store.clear_provider_app_attention(&provider.app.provider_id)? {
            self.events.publish(EngineEvent::ProvidersChanged);
        }
        let note = short_lived.map(|lifetime| {
            format!(
                "{}'s tokens last only {} s; Grantkeeper asks for new ones at most once a minute",
                provider.name,
                lifetime.as_secs()
            )
        });
        self.log_event(EventKind::CredentialRefreshed, at, &credential.id, None, note.as_deref());
        self.events.publish(EngineEvent::ConnectionsChanged);
        Ok(grant.tokens)
    }
}
