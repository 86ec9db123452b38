//! Settling what a killed process left behind: a refresh sent but not saved, keychain
//! entries replaced but not deleted, tokens gone from the keychain.

use crate::api::Connection;
use crate::provider::ProviderRecord;
use crate::store::CredentialRecord;
use crate::vault::TokenSet;
use crate::Timestamp;
use crate::{Engine, EngineEvent, Result};

use super::TOKENS_MISSING_REASON;
use crate::credential::status::may_rotate;

/// Longer than any sign-in or key check takes between noting its entry and keeping it.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(10 * 60);

impl Engine {
    /// On start: a credential whose tokens are gone from the keychain or unreadable there
    /// (deleted or changed by hand, or a process killed between writes) becomes
    /// Reauthorize now rather than at its next use, a refresh a killed process left half
    /// done is settled, keychain entries a killed process left unused are deleted, and
    /// credentials that never expire are checked with their provider soon. Does nothing
    /// when the keychain cannot be read.
    pub async fn repair(&self) -> Result<()> {
        self.store.check_unexpiring_soon(Timestamp::now())?;
        self.delete_stale_secrets().await?;
        for credential in self.store.usable_credentials()? {
            let Some(connection) = self.store.a_connection_of(&credential.id)? else { continue };
            if credential.pending_token_key.is_some() {
                // Settled through the refresh path, which takes the locks first.
                let _ = self.refresh(&self.decorate(connection), credential).await;
            } else if self.vault.read_tokens(&credential.token_secret_key).await?.is_none() {
                tracing::warn!(credential_id = %credential.id, "tokens missing from the keychain or unreadable");
                // It returns the error a caller would get; here the marking is what counts.
                let _: Result<()> =
                    self.needs_reauthorization(&connection, &credential, TOKENS_MISSING_REASON);
            }
        }
        Ok(())
    }

    /// Deletes the keychain entries nothing uses any more: replaced by newer tokens, or
    /// written by a process that died before keeping them. An entry noted moments ago
    /// may be one another process is about to keep, so notes wait a while.
    pub async fn delete_stale_secrets(&self) -> Result<()> {
        let noted_before = Timestamp::from(Timestamp::now().offset_date_time() - STALE_AFTER);
        for key in self.store.stale_secrets(noted_before)? {
            self.delete_replaced_secret(&key).await?;
        }
        Ok(())
    }

    /// A refresh whose answer was never saved (the caller holds both locks): a dead
    /// process started it, or it got no answer. Its tokens are adopted if they reached
    /// the keychain. Otherwise the provider may already have answered and, if it rotates
    /// refresh tokens, retired the old one: presenting it again would make the provider
    /// revoke the whole grant, so the person signs in again instead (`why` says why). A
    /// provider that keeps refresh tokens just gets a fresh attempt (None: go on).
    pub(super) async fn settle_unsaved_refresh(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        provider: &ProviderRecord,
        pending: &str,
        why: &str,
    ) -> Result<Option<TokenSet>> {
        if let Some(tokens) = self.adopt_unsaved_refresh(credential, pending).await? {
            return Ok(Some(tokens));
        }
        if may_rotate(provider) {
            let reason = format!("{why}, and the provider may have retired the old refresh token");
            return self.needs_reauthorization(connection, credential, &reason);
        }
        self.store.end_refresh(&credential.id)?;
        Ok(None)
    }

    /// The tokens a refresh wrote to `pending` before its process died (the caller holds
    /// both locks), now the credential's; None when they never reached the keychain.
    pub(in crate::credential) async fn adopt_unsaved_refresh(
        &self,
        credential: &CredentialRecord,
        pending: &str,
    ) -> Result<Option<TokenSet>> {
        let Some(tokens) = self.vault.read_tokens(pending).await? else { return Ok(None) };
        tracing::info!(credential_id = %credential.id, "adopting the tokens of an interrupted refresh");
        self.store.adopt_pending(&credential.id, pending)?;
        self.delete_replaced_secret(&credential.token_secret_key).await?;
        self.events.publish(EngineEvent::ConnectionsChanged);
        Ok(Some(tokens))
    }
}
