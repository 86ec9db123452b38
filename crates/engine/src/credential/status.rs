//! Where a credential's status is decided. Saving fresh tokens makes it Active; a
//! refresh that fails for a reason that may pass makes it retrying (still usable); a
//! grant short of an integration's scopes shows Needs more access; only the provider's
//! word (or tokens gone from the keychain) makes it Reauthorize.

use crate::api::{Connection, ConnectionStatus, EventKind};
use crate::oauth::{IdTokenError, RefreshRefused};
use crate::provider::ProviderRecord;
use crate::store::{CredentialKind, CredentialRecord};
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error, Result};

/// The status a connection shows: its credential's, or Needs more access when the
/// credential is usable but lacks scopes the connection's integration needs.
pub(crate) fn shown_status(stored: ConnectionStatus, missing_scopes: &[String]) -> ConnectionStatus {
    match stored {
        ConnectionStatus::Active | ConnectionStatus::Retrying if !missing_scopes.is_empty() => {
            ConnectionStatus::NeedsMoreAccess
        }
        status => status,
    }
}

/// Whether a provider may have retired a refresh token it was shown: true where the
/// catalog says it rotates them, and for custom providers, which could.
pub(crate) fn may_rotate(provider: &ProviderRecord) -> bool {
    provider.spec.is_none() || provider.refresh_tokens() == crate::catalog::RefreshTokens::Rotating
}

/// Why a grant ended, where it ended as the provider ends sign-ins to provider apps in
/// testing: about that many days after the sign-in, holding scopes that are limited.
fn testing_mode_advice<'p>(
    provider: &'p ProviderRecord,
    credential: &CredentialRecord,
    now: Timestamp,
) -> Option<&'p str> {
    let testing = provider.spec?.testing_mode.as_ref()?;
    let age = now - credential.signed_in_at?;
    let limit = time::Duration::days(i64::from(testing.sign_in_lasts_days));
    let around_the_limit = age >= limit - time::Duration::days(1) && age <= limit + time::Duration::days(1);
    let limited = credential.scopes.iter().any(|scope| !testing.unlimited_scopes.contains(scope));
    (around_the_limit && limited).then_some(testing.advice.as_str())
}

/// What the person is told to do: sign in again, or for an API key, paste a new one.
fn reauthorize(connection: &Connection, credential: &CredentialRecord, reason: String) -> Error {
    let connection_name = connection.name.clone();
    match credential.kind {
        CredentialKind::ApiKey { .. } => Error::KeyRefused {
            connection: connection_name,
            integration: connection.integration.clone(),
            reason,
        },
        CredentialKind::OAuth => Error::NeedsReauthorization { connection: connection_name, reason },
    }
}

impl Engine {
    /// The connection's credential, unless it waits for the person to reconnect.
    pub(crate) fn usable_credential(&self, connection: &Connection) -> Result<CredentialRecord> {
        // Gone meanwhile (removed while this waited for a refresh): named as the caller knew it.
        let removed = |error| match error {
            Error::NotFound { .. } => Error::NotFound { what: "connection", key: connection.name.clone() },
            error => error,
        };
        let credential_id = self.store.credential_id_of(&connection.id).map_err(removed)?;
        let credential = self.store.credential(&credential_id).map_err(removed)?;
        if credential.status == ConnectionStatus::Reauthorize {
            let reason = credential.status_reason.clone();
            let reason = reason.unwrap_or_else(|| "the provider no longer accepts it".into());
            return Err(reauthorize(connection, &credential, reason));
        }
        Ok(credential)
    }

    /// Reauthorize, with the reason a person reads; returns the error the caller gets.
    pub(crate) fn needs_reauthorization<T>(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        reason: &str,
    ) -> Result<T> {
        if !self.store.mark_reauthorize(&credential.id, &credential.token_secret_key, reason)? {
            return Err(Error::Internal(format!(
                "“{}” was renewed while this was under way (a reconnect, or a refresh elsewhere); try again",
                connection.name
            )));
        }
        self.log_event(EventKind::NeedsReauthorization, Timestamp::now(), &credential.id, None, Some(reason));
        self.events.publish(EngineEvent::ConnectionsChanged);
        Err(reauthorize(connection, credential, reason.to_owned()))
    }

    /// Retrying: a scheduled refresh failed for a reason that may pass. The connection
    /// stays usable and the scheduler tries again at `retry_at`.
    pub(crate) fn refresh_failed(&self, credential_id: &str, error: &Error, retry_at: Timestamp) {
        let cause = error.to_string();
        let not_before = match error {
            Error::ProviderUnreachable { retry_after: Some(wait), .. } => Some(Timestamp::now() + *wait),
            _ => None,
        };
        if self.store.mark_retrying(credential_id, &cause, retry_at, not_before).is_ok() {
            self.log_event(EventKind::RefreshFailed, Timestamp::now(), credential_id, None, Some(&cause));
            self.events.publish(EngineEvent::ConnectionsChanged);
        }
    }

    /// What a refused refresh does: a grant the provider says is gone needs
    /// reauthorization; rejected client credentials flag the provider app (the grant
    /// and its tokens stay); anything else is an error for the retry schedule.
    pub(crate) fn refresh_refused<T>(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        provider: &ProviderRecord,
        refused: RefreshRefused,
    ) -> Result<T> {
        match refused {
            RefreshRefused::GrantInvalid { detail } => {
                let mut reason = format!("{} said the grant is no longer valid: {detail}", provider.name);
                if let Some(advice) = testing_mode_advice(provider, credential, Timestamp::now()) {
                    reason = format!("{reason}. {advice}");
                }
                self.needs_reauthorization(connection, credential, &reason)
            }
            RefreshRefused::SignInRequired { detail } => {
                let reason = format!("{} asks you to sign in again: {detail}", provider.name);
                self.needs_reauthorization(connection, credential, &reason)
            }
            // A registration the server forgot: the next sign-in registers once more.
            RefreshRefused::ClientRejected { detail } if self.forget_registration(provider)? => {
                let reason = format!(
                    "{} no longer knows Grantkeeper's registration ({detail}); reconnecting registers it again",
                    provider.name
                );
                self.needs_reauthorization(connection, credential, &reason)
            }
            RefreshRefused::ClientRejected { detail } => {
                let detail = format!("{detail}; {}", crate::oauth::client_auth_hint(provider));
                let error = Error::ProviderAppRejected { provider: provider.name.clone(), detail };
                self.store.flag_provider_app(&provider.app.provider_id, &error.to_string())?;
                self.events.publish(EngineEvent::ProvidersChanged);
                Err(error)
            }
            RefreshRefused::Failed(error) | RefreshRefused::Unanswered(error) => Err(error),
        }
    }

    /// A refresh whose ID token was refused (OpenID Connect Core §12.2): its tokens are
    /// dropped and the stored ones kept. An ID token the provider signed for another
    /// account says the grant is no longer this credential's: Reauthorize, and no token
    /// of it is handed out. Any other refusal is an error for the retry schedule, unless
    /// the provider rotates refresh tokens: then the stored one may be spent, and
    /// presenting it again would make the provider revoke the grant.
    pub(crate) fn id_token_refused<T>(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        provider: &ProviderRecord,
        refusal: IdTokenError,
    ) -> Result<T> {
        tracing::warn!(credential_id = %credential.id, %refusal, "refreshed tokens refused");
        match refusal {
            IdTokenError::OtherAccount => {
                let reason = format!(
                    "{}'s refreshed ID token names another account than the one that signed in, so its tokens were not used",
                    provider.name
                );
                self.needs_reauthorization(connection, credential, &reason)
            }
            IdTokenError::Refused(detail) if may_rotate(provider) => {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scopes_show_needs_more_access_only_on_a_usable_credential() {
        let missing = ["calendar".to_owned()];
        assert_eq!(shown_status(ConnectionStatus::Active, &missing), ConnectionStatus::NeedsMoreAccess);
        assert_eq!(shown_status(ConnectionStatus::Retrying, &missing), ConnectionStatus::NeedsMoreAccess);
        assert_eq!(shown_status(ConnectionStatus::Reauthorize, &missing), ConnectionStatus::Reauthorize);
        assert_eq!(shown_status(ConnectionStatus::Active, &[]), ConnectionStatus::Active);
    }
}
