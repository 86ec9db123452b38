//! Keeping a credential: its keychain entry is noted in SQLite, its tokens go to the
//! keychain, then its row (with a new connection on it, when there is one) to SQLite in
//! one transaction, then the keychain entry it replaced is deleted and the activity log
//! says what happened. Sign-in, device sign-in and API keys all end here.

use crate::api::EventKind;
use crate::oauth::Grant;
use crate::runtime::{refresh_due, CHECK_INTERVAL};
use crate::store::{CredentialRecord, GrantSaved, NewConnectionRow, NewEvent};
use crate::vault::TokenSet;
use crate::Timestamp;
use crate::{Engine, Result};

/// When a grant's access token expires, when the scheduler should next act on it, and
/// when its refresh token lapses (where the provider says).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantTimes {
    pub expires_at: Option<Timestamp>,
    pub refresh_due_at: Option<Timestamp>,
    pub refresh_token_expires_at: Option<Timestamp>,
}

impl GrantTimes {
    /// For a grant answered at `at`, with the refresh token it will be kept with.
    pub(crate) fn of(grant: &Grant, at: Timestamp) -> GrantTimes {
        let after = |lifetime: std::time::Duration| at.checked_add(lifetime);
        GrantTimes {
            expires_at: grant.expires_in.and_then(after),
            refresh_due_at: match grant.expires_in {
                Some(lifetime) => grant.tokens.refresh_token.is_some().then(|| refresh_due(at, lifetime)),
                // Nothing expires: check it with the provider now and then.
                None => Some(at + CHECK_INTERVAL),
            },
            refresh_token_expires_at: grant.extras.refresh_token_lifetime().and_then(after),
        }
    }
}

impl Engine {
    /// Keeps a new or renewed credential (see the module's note). A failed SQLite write,
    /// or another sign-in to the account kept since it was read, leaves the stored
    /// credential as it was and deletes the new keychain entry.
    pub(crate) async fn save_credential(
        &self,
        credential: &CredentialRecord,
        tokens: &TokenSet,
        connection: Option<&NewConnectionRow>,
        replaced_key: Option<&str>,
    ) -> Result<GrantSaved> {
        let key = &credential.token_secret_key;
        self.store.note_secret_to_write(key, Timestamp::now())?;
        self.vault.write_tokens(key, tokens).await?;
        let saved = self.store.save_grant(credential, connection, replaced_key);
        if !matches!(saved, Ok(GrantSaved::Saved)) {
            if self.vault.delete(key).await.is_ok() {
                let _ = self.store.forget_secret(key);
            }
            return saved;
        }
        // The credential points at it now; a note left behind would only wait.
        let _ = self.store.forget_secret(key);
        // Kept. A replaced entry left in the keychain is noted in the database, and the
        // app's next start deletes it.
        if let Some(replaced) = replaced_key {
            if let Err(error) = self.delete_replaced_secret(replaced).await {
                tracing::warn!(%error, "could not delete the keychain entry a sign-in replaced");
            }
        }
        Ok(GrantSaved::Saved)
    }

    /// Deletes a keychain entry that newer tokens replaced (the database noted it when
    /// it switched), and the note.
    pub(crate) async fn delete_replaced_secret(&self, key: &str) -> Result<()> {
        self.vault.delete(key).await?;
        self.store.forget_secret(key)
    }

    /// Appends an event about a credential to the activity log; it names the given
    /// connection, or else every connection on the credential.
    pub(crate) fn log_event(
        &self,
        kind: EventKind,
        at: Timestamp,
        credential_id: &str,
        connection_id: Option<&str>,
        detail: Option<&str>,
    ) {
        self.record_event(&NewEvent {
            kind,
            at,
            credential_id: Some(credential_id),
            connection_id,
            subject: None,
            detail,
            program: None,
        });
    }

    /// Appends to the activity log what has already happened: a log that cannot be
    /// written is a warning, not the failure of what it records (which would say nothing
    /// changed when something did).
    pub(crate) fn record_event(&self, event: &NewEvent) {
        if let Err(error) = self.store.record_event(event) {
            tracing::warn!(%error, kind = event.kind.as_ref(), "could not write to the activity log");
        }
    }
}
