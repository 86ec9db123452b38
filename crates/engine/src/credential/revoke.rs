//! Removing a connection, and telling the provider when its grant is no longer
//! wanted (RFC 7009, or the provider's own way). Local deletion always completes; a
//! revocation the provider could not take now is queued and retried, across restarts.

use super::refresh::RefreshGuard;
use crate::api::{EventKind, Removal, Revocation};
use crate::catalog::RevokedTokens;
use crate::oauth::{names_an_account, refresh_grant, revocation_endpoint, revoke_grant, RefreshRefused};
use crate::provider::ProviderRecord;
use crate::runtime::next_attempt;
use crate::store::{Deleted, NewEvent, PendingRevocation};
use crate::vault::TokenSet;
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error, Result, Secret};

/// The activity log's words for a removal that found no tokens to revoke with.
const TOKENS_MISSING_DETAIL: &str =
    "Its tokens were gone from the keychain, so the access it granted could not be \
     revoked; remove it in your account settings at the provider.";

impl Engine {
    /// Removes a connection. When it was the last one on its credential, the grant is
    /// revoked at the provider (refresh token first) and the tokens are deleted; a
    /// revocation that fails for a passing reason is retried later.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn remove_connection(&self, key: &str) -> Result<Removal> {
        let connection = self.connection_named_whole(key, "remove it")?;
        let credential_id = match self.store.credential_id_of(&connection.id) {
            Err(Error::NotFound { .. }) => {
                return Err(Error::NotFound { what: "connection", key: key.to_owned() })
            }
            found => found?,
        };
        let refresh = self.settled_for_removal(&credential_id).await;
        // The last connection on the tokens goes only where they can be read: with the
        // keychain out of reach they could be neither revoked nor deleted, and a removed
        // connection would leave a live grant behind.
        if self.store.connections_on(&credential_id)?.len() == 1 {
            let credential = self.store.credential(&credential_id)?;
            self.vault.read_tokens(&credential.token_secret_key).await?;
        }
        let pending = match self.store.delete_connection(&connection.id, Timestamp::now())? {
            // Removed by another process since it was found.
            Deleted::NotFound => return Err(Error::NotFound { what: "connection", key: key.to_owned() }),
            Deleted::CredentialKept => None,
            Deleted::CredentialGone(pending) => Some(pending),
        };
        drop(refresh);
        self.record_event(&NewEvent {
            kind: EventKind::ConnectionRemoved,
            at: Timestamp::now(),
            credential_id: None,
            connection_id: Some(&connection.id),
            subject: Some(&connection.name),
            detail: None,
            program: None,
        });
        self.events.publish(EngineEvent::ConnectionsChanged);
        let (revocation, detail) = match pending {
            Some(pending) => self.revoke(&pending).await,
            None => (Revocation::StillInUse, None),
        };
        Ok(Removal { name: connection.name, provider: connection.provider, revocation, detail })
    }

    /// Waits for a refresh of the credential under way and adopts the tokens of one a
    /// killed process left unsaved: a revocation then presents the newest tokens, and no
    /// keychain entry of the grant is left behind. Holds the refresh locks until dropped
    /// (None: a stuck process holds them; the removal goes on without).
    async fn settled_for_removal(&self, credential_id: &str) -> Option<RefreshGuard> {
        let guard = match self.lock_refresh(credential_id).await {
            Ok(guard) => guard,
            Err(error) => {
                tracing::warn!(%error, "removing without the refresh lock");
                return None;
            }
        };
        if let Ok(credential) = self.store.credential(credential_id) {
            if let Some(pending) = &credential.pending_token_key {
                if let Err(error) = self.adopt_unsaved_refresh(&credential, pending).await {
                    tracing::warn!(%error, "could not adopt the tokens of an interrupted refresh");
                }
            }
        }
        Some(guard)
    }

    /// Tries every queued revocation once, due or not: the app calls this on start,
    /// a natural moment to try again.
    pub async fn retry_revocations(&self) -> Result<()> {
        for pending in self.store.pending_revocations()? {
            self.revoke(&pending).await;
        }
        Ok(())
    }

    /// Retries the queued revocations whose backoff has passed: the scheduler, and the
    /// CLI's `remove` (where no app runs, nothing else would). What became of each.
    pub async fn retry_due_revocations(&self) -> Result<Vec<Removal>> {
        let mut retried = Vec::new();
        for pending in self.store.pending_revocations()? {
            if pending.next_attempt_at.is_none_or(|due| due <= Timestamp::now()) {
                let (revocation, detail) = self.revoke(&pending).await;
                let provider = self
                    .provider_record(&pending.provider_id)
                    .map_or_else(|_| pending.provider_id.clone(), |record| record.name);
                retried.push(Removal { name: pending.subject.clone(), provider, revocation, detail });
            }
        }
        Ok(retried)
    }

    async fn revoke(&self, pending: &PendingRevocation) -> (Revocation, Option<String>) {
        let attempt = self.revoke_at_provider(pending).await;
        let at = Timestamp::now();
        let (outcome, detail, kind) = match attempt {
            Ok(Revocation::TokensMissing) => (
                Revocation::TokensMissing,
                Some(TOKENS_MISSING_DETAIL.to_owned()),
                Some(EventKind::RevocationFailed),
            ),
            Ok(outcome) => {
                (outcome, None, (outcome == Revocation::Revoked).then_some(EventKind::CredentialRevoked))
            }
            Err(error @ (Error::ProviderUnreachable { .. } | Error::KeychainUnavailable(_))) => {
                let next = Timestamp::now() + next_attempt(pending.attempts + 1, &error);
                let reason = error.to_string();
                if let Err(error) = self.store.revocation_failed(&pending.credential_id, &reason, next) {
                    tracing::warn!(%error, "could not record a failed revocation");
                }
                let detail = format!("Revoking access will be retried: {reason}");
                return self.revocation_event(&pending.subject, Revocation::WillRetry, Some(detail), at);
            }
            Err(error) => (
                Revocation::Refused,
                Some(format!(
                    "The provider did not revoke access ({error}). Revoke it in your account settings there."
                )),
                Some(EventKind::RevocationFailed),
            ),
        };
        // Done with this grant either way: the tokens go, and so does the queue entry.
        if let Err(error) = self.vault.delete(&pending.token_secret_key).await {
            tracing::warn!(%error, "could not delete the tokens of a removed connection");
        }
        if let Err(error) = self.store.revocation_done(&pending.credential_id) {
            tracing::warn!(%error, "could not clear a finished revocation");
        }
        match kind {
            Some(_) => self.revocation_event(&pending.subject, outcome, detail, at),
            None => (outcome, detail),
        }
    }

    /// Records the end of a revocation in the activity log, under `subject` (whose grant
    /// it was), and announces it.
    pub(super) fn revocation_event(
        &self,
        subject: &str,
        outcome: Revocation,
        detail: Option<String>,
        at: Timestamp,
    ) -> (Revocation, Option<String>) {
        let kind = if outcome == Revocation::Revoked {
            EventKind::CredentialRevoked
        } else {
            EventKind::RevocationFailed
        };
        self.record_event(&NewEvent {
            kind,
            at,
            credential_id: None,
            connection_id: None,
            subject: Some(subject),
            detail: detail.as_deref(),
            program: None,
        });
        self.events.publish(EngineEvent::ConnectionsChanged);
        (outcome, detail)
    }

    async fn revoke_at_provider(&self, pending: &PendingRevocation) -> Result<Revocation> {
        let Some(tokens) = self.vault.read_tokens(&pending.token_secret_key).await? else {
            return Ok(Revocation::TokensMissing);
        };
        let provider = match self.provider_at(&pending.provider_id, pending.addresses.as_ref()) {
            Ok(provider) => provider,
            Err(Error::NotFound { .. } | Error::ProviderAppMissing { .. }) => {
                return Ok(Revocation::NotOffered)
            }
            Err(error) => return Err(error),
        };
        // Signed in to that account again since (a retry after a reconnect): some providers
        // end every grant of an account to one app together, the new one too.
        // An account nobody could name cannot be told apart: revoked as always.
        let account = pending.account_subject.as_deref().filter(|subject| names_an_account(subject));
        if let Some(account) = account {
            if self.may_share_the_grant(&provider, Some(account))? {
                return Ok(Revocation::StillInUse);
            }
        }
        let Some(url) = revocation_endpoint(&provider)? else { return Ok(Revocation::NotOffered) };
        let secret = self.client_secret(&provider).await?;
        let revoke_with = provider.spec.map(|s| s.revoke_with).unwrap_or_default();
        let tokens = match revoke_with {
            RevokedTokens::FreshAccessToken if tokens.refresh_token.is_some() => {
                match self.refreshed_for_revocation(&provider, secret.clone(), tokens, pending).await? {
                    Some(tokens) => tokens,
                    None => return Ok(Revocation::Revoked),
                }
            }
            _ => tokens,
        };
        revoke_grant(&provider, &url, secret.as_ref(), &tokens, &self.http).await?;
        Ok(Revocation::Revoked)
    }

    /// The grant's tokens with a live access token, for a provider that revokes by the
    /// access token alone. A rotated refresh token is kept where the queued revocation
    /// reads its tokens. None: the provider says the grant has already ended.
    async fn refreshed_for_revocation(
        &self,
        provider: &ProviderRecord,
        secret: Option<Secret>,
        tokens: TokenSet,
        pending: &PendingRevocation,
    ) -> Result<Option<TokenSet>> {
        let refused = |detail: String| Error::ProviderError { provider: provider.name.clone(), detail };
        let Some(refresh_token) = tokens.refresh_token else { return Ok(Some(tokens)) };
        match refresh_grant(provider, secret, &refresh_token, &self.http).await {
            Ok(grant) => {
                let mut fresh = grant.tokens;
                fresh.refresh_token = fresh.refresh_token.or(Some(refresh_token));
                self.vault.write_tokens(&pending.token_secret_key, &fresh).await?;
                Ok(Some(fresh))
            }
            Err(RefreshRefused::GrantInvalid { .. }) => Ok(None),
            Err(RefreshRefused::ClientRejected { detail } | RefreshRefused::SignInRequired { detail }) => {
                Err(refused(detail))
            }
            Err(RefreshRefused::Failed(error)) => Err(error),
            // Its refresh token may be spent: a later try could only present it again.
            Err(RefreshRefused::Unanswered(error)) => Err(refused(error.to_string())),
        }
    }
}
