//! A grant a sign-in made but does not keep: it names another account than the
//! connection it was to renew, or what it was for was removed while the person signed
//! in. It is revoked at the provider at once, so that account does not list an access
//! nobody holds.

use crate::api::Revocation;
use crate::oauth::{revocation_endpoint, revoke_grant, Grant, Identity};
use crate::provider::ProviderRecord;
use crate::{Engine, Result, Timestamp};

impl Engine {
    /// Revokes `grant`, refused for `why`, unless a credential kept here may be for the
    /// same account: some providers (Google) end every grant of one account to one app
    /// together. One try, recorded in the activity log; the sign-in's own error stands.
    pub(super) async fn discard_grant(
        &self,
        provider: &ProviderRecord,
        grant: &Grant,
        identity: &Identity,
        why: &str,
    ) {
        match self.store.credentials_at(&provider.id) {
            Ok(kept) if kept.iter().any(|c| !identity.is_known() || c.subject == identity.subject) => return,
            Ok(_) => {}
            Err(error) => return tracing::warn!(%error, "could not tell whether a refused grant is in use"),
        }
        let account = crate::error::provider_text(identity.account.as_ref().unwrap_or(&identity.subject));
        let at = Timestamp::now();
        let (outcome, detail) = match self.revoke_refused(provider, grant).await {
            Ok(Revocation::Revoked) => (Revocation::Revoked, format!("{why}, so the access it granted was revoked.")),
            Ok(_) => (
                Revocation::NotOffered,
                format!(
                    "{why}. {} cannot revoke the access it granted from here; remove it in your account settings there.",
                    provider.name
                ),
            ),
            Err(error) => (
                Revocation::Refused,
                format!(
                    "{why}. Revoking the access it granted failed ({error}); remove it in your account settings at {}.",
                    provider.name
                ),
            ),
        };
        self.revocation_event(&account, outcome, Some(detail), at);
    }

    async fn revoke_refused(&self, provider: &ProviderRecord, grant: &Grant) -> Result<Revocation> {
        let Some(url) = revocation_endpoint(provider)? else { return Ok(Revocation::NotOffered) };
        // A provider removed meanwhile took its client secret with it; a public client's
        // revocation needs none, and a confidential one is refused and says so.
        let secret = self.client_secret(provider).await.unwrap_or_default();
        revoke_grant(provider, &url, secret.as_ref(), &grant.tokens, &self.http).await?;
        Ok(Revocation::Revoked)
    }
}
