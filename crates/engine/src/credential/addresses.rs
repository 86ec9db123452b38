//! The provider as a credential was signed in with it. Refresh, revocation, checks and
//! git use the site and endpoints kept at sign-in, never those of an edited provider
//! app: a changed token URL or site takes effect when the person reconnects.

use crate::provider::{ProviderRecord, SignedInAddresses};
use crate::store::CredentialRecord;
use crate::{Engine, Result};

impl Engine {
    /// The provider at the addresses `credential` was signed in with. A credential from
    /// before addresses were kept adopts today's, once.
    pub(crate) fn signed_in_provider(&self, credential: &CredentialRecord) -> Result<ProviderRecord> {
        let provider = self.provider_at(&credential.provider_id, credential.addresses.as_ref())?;
        if credential.addresses.is_none() {
            self.store.keep_addresses(&credential.id, &provider.addresses())?;
        }
        Ok(provider)
    }

    /// The provider at `addresses`, where they were kept.
    pub(crate) fn provider_at(
        &self,
        provider_id: &str,
        addresses: Option<&SignedInAddresses>,
    ) -> Result<ProviderRecord> {
        let provider = self.provider_record(provider_id)?;
        let Some(addresses) = addresses else { return Ok(provider) };
        let provider = match &addresses.registration {
            Some(id) => self.with_registration(provider, id)?,
            None => provider,
        };
        Ok(provider.signed_in_at(addresses))
    }

    /// The connections still signed in at other addresses than the provider app has
    /// now: they keep using those until the person reconnects them.
    pub(crate) fn on_previous_addresses(&self, provider: &ProviderRecord) -> Result<Vec<String>> {
        let today = provider.addresses();
        let mut names = Vec::new();
        for credential in self.store.credentials_at(&provider.id)? {
            if credential.addresses.as_ref().is_some_and(|kept| *kept != today) {
                names.extend(self.store.connections_on(&credential.id)?.into_iter().map(|c| c.name));
            }
        }
        Ok(names)
    }
}
