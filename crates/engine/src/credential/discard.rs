//! A grant a sign-in made but does not keep: it names another account than the
//! connection it was to renew, what it was for was removed while the person signed
//! in, or it could not be saved (a locked keychain). It is revoked at the provider at
//! once, so that account does not list an access nobody holds.

use crate::api::Revocation;
use crate::oauth::{revocation_endpoint, revoke_grant, Identity};
use crate::provider::ProviderRecord;
use crate::vault::TokenSet;
use crate::{Engine, Result, Timestamp};

impl Engine {
    /// Revokes the grant of `tokens`, refused for `why`, unless a credential kept here may
    /// be for the same account: some providers (Google) end every grant of one account to
    /// one app together. One try, recorded in the activity log; the sign-in's own error
    /// stands.
    pub(super) async fn discard_grant(
        &self,
        provider: &ProviderRecord,
        tokens: &TokenSet,
        identity: &Identity,
        why: &str,
    ) {
        match self.may_share_the_grant(provider, identity.is_known().then_some(identity.subject.as_str())) {
            Ok(false) => {}
            Ok(true) => return,
            Err(error) => return tracing::warn!(%error, "could not tell whether a refused grant is in use"),
        }
        let account = crate::error::provider_text(identity.account.as_ref().unwrap_or(&identity.subject));
        let at = Timestamp::now();
        let (outcome, detail) = match self.revoke_refused(provider, tokens).await {
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

    /// Whether a credential kept here may hold a grant of the account `subject` (None:
    /// nobody could name it) to the same provider app: at its own provider or another it
    /// signs in for (Azure DevOps with Microsoft 365's), for that account or for one
    /// nobody could name.
    pub(super) fn may_share_the_grant(
        &self,
        provider: &ProviderRecord,
        subject: Option<&str>,
    ) -> Result<bool> {
        for provider_id in self.served_by(&provider.app.provider_id)? {
            let kept = self.store.credentials_at(&provider_id)?;
            if kept.iter().any(|c| subject.is_none_or(|subject| c.subject == subject)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn revoke_refused(&self, provider: &ProviderRecord, tokens: &TokenSet) -> Result<Revocation> {
        let Some(url) = revocation_endpoint(provider)? else { return Ok(Revocation::NotOffered) };
        // A provider removed meanwhile took its client secret with it; a public client's
        // revocation needs none, and a confidential one is refused and says so.
        let secret = self.client_secret(provider).await.unwrap_or_default();
        revoke_grant(provider, &url, secret.as_ref(), tokens, &self.http).await?;
        Ok(Revocation::Revoked)
    }
}
