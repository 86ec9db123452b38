//! The end of a sign-in: the browser's callback or the device code redeemed, the
//! account learnt, and the grant kept on that account's credential.

use super::connect::{Purpose, Waiting};
use super::save::GrantTimes;
use crate::api::{Connection, ConnectionStatus, EventKind};
use crate::integration::union;
use crate::oauth::{identity, Authorization, Callback, CallbackListener, Grant, Identity, PastedAddress};
use crate::provider::ProviderRecord;
use crate::store::{CredentialKind, CredentialRecord, FlowStatus, GrantSaved, NewConnectionRow};
use crate::vault::new_token_key;
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error, Result};
use tokio::sync::mpsc;

/// How often a sign-in reads the account's credential again when others to the same
/// account were kept first: each finished one lets another through.
const SAVE_ATTEMPTS: usize = 5;

impl Engine {
    /// Waits for the sign-in's grant: the browser's callback (or the address pasted) and
    /// the code exchange, or the device code redeemed.
    pub(super) async fn receive_grant(
        &self,
        waiting: Waiting,
        provider: &ProviderRecord,
        time_limit: std::time::Duration,
        pasted: &mut mpsc::Receiver<PastedAddress>,
    ) -> Result<Grant> {
        match waiting {
            Waiting::Callback(listener, authorization) => {
                self.receive_code(listener, *authorization, provider, pasted).await
            }
            Waiting::Device(device) => device.redeem(provider, &self.http, time_limit).await,
        }
    }

    /// Keeps the grant a sign-in brought, for what it was started for, or revokes it.
    pub(super) async fn keep_grant(
        &self,
        provider: &ProviderRecord,
        purpose: Purpose,
        grant: Grant,
    ) -> Result<Connection> {
        let identity = match identity(provider, &grant, &self.http).await {
            Ok(identity) => identity,
            Err(error) => {
                // The grant was made: left alone, the provider would list an access
                // nobody holds.
                let why = "The account the sign-in was for could not be learnt";
                self.discard_grant(provider, &grant.tokens, &Identity::unknown(), why).await;
                return Err(error);
            }
        };
        if let Some((refused, why)) = self.refusal(provider, &purpose, &identity)? {
            self.discard_grant(provider, &grant.tokens, &identity, &why).await;
            return Err(refused);
        }
        let (connection, connection_id, identity, renewing) = match purpose {
            Purpose::New { name, integration } => {
                let id = uuid::Uuid::new_v4().to_string();
                let row =
                    NewConnectionRow { id: id.clone(), name, integration, created_at: Timestamp::now() };
                (Some(row), id, identity, None)
            }
            Purpose::Existing { connection_id, subject, name, .. } => {
                (None, connection_id, Identity { subject, ..identity }, Some(name))
            }
        };
        let tokens = grant.tokens.clone();
        let refused = match self.save_sign_in(provider, grant, identity.clone(), connection.as_ref()).await {
            Ok(true) => None,
            Ok(false) => Some(removed_meanwhile(&renewing.unwrap_or_default())),
            Err(error) => Some((error, "The sign-in could not be saved".to_owned())),
        };
        if let Some((error, why)) = refused {
            self.discard_grant(provider, &tokens, &identity, &why).await;
            return Err(error);
        }
        self.connection(&connection_id)
    }

    /// Why a finished sign-in is not kept, if it is not: the error it ends with, and the
    /// reason in a few words for the activity log. What it was for may have been removed
    /// meanwhile (elsewhere: the CLI, another window), and a Reconnect must sign in to
    /// the connection's own account.
    fn refusal(
        &self,
        provider: &ProviderRecord,
        purpose: &Purpose,
        identity: &Identity,
    ) -> Result<Option<(Error, String)>> {
        match self.provider_record(&provider.id) {
            Err(Error::NotFound { .. } | Error::ProviderAppMissing { .. }) => {
                let error = Error::NotFound { what: "provider", key: provider.name.clone() };
                return Ok(Some((error, format!("{} was removed during the sign-in", provider.name))));
            }
            still_there => still_there?,
        };
        let Purpose::Existing { connection_id, name, subject, account } = purpose else { return Ok(None) };
        if !identity.may_renew(subject) {
            let expected = account.clone().unwrap_or_else(|| subject.clone());
            let found = crate::error::provider_text(identity.account.as_ref().unwrap_or(&identity.subject));
            let why = format!("The sign-in was for {expected}, not {found}");
            return Ok(Some((Error::DifferentAccount { expected, found }, why)));
        }
        match self.connection(connection_id) {
            Err(Error::NotFound { .. }) => Ok(Some(removed_meanwhile(name))),
            still_there => still_there.map(|_| None),
        }
    }

    /// The browser's answer on the loopback listener (or pasted), redeemed for tokens.
    async fn receive_code(
        &self,
        listener: CallbackListener,
        authorization: Authorization,
        provider: &ProviderRecord,
        pasted: &mut mpsc::Receiver<PastedAddress>,
    ) -> Result<Grant> {
        let state = authorization.state.clone();
        let code = match listener.wait(&state, provider.expected_issuer(), pasted).await? {
            Callback::Code(code) => code,
            Callback::Error { error, .. } if error == "access_denied" => {
                return Err(Error::AccessDenied { provider: provider.name.clone() })
            }
            Callback::Error { error, description } => {
                let detail = match description {
                    Some(text) => format!(
                        "{} ({})",
                        crate::error::provider_text(&error),
                        crate::error::provider_text(&text)
                    ),
                    None => crate::error::provider_text(&error),
                };
                return Err(Error::ProviderError { provider: provider.name.clone(), detail });
            }
        };
        authorization.redeem(code, provider, &self.http).await
    }

    /// Keeps the grant on the account's credential (new, or merged into the one the
    /// account already has) and, when given, a new connection on it. A sign-in to the
    /// same account that finished first, elsewhere, is merged into like any other.
    /// False: no connection was given and the credential it was to renew is gone.
    async fn save_sign_in(
        &self,
        provider: &ProviderRecord,
        mut grant: Grant,
        identity: Identity,
        connection: Option<&NewConnectionRow>,
    ) -> Result<bool> {
        let at = Timestamp::now();
        let brought_refresh_token = grant.tokens.refresh_token.is_some();
        for _ in 0..SAVE_ATTEMPTS {
            let mut existing = self.store.credential_for_subject(&provider.id, &identity.subject)?;
            // A re-authorization without a new refresh token keeps the old one, read under
            // the refresh lock and kept before it is let go: a refresh under way may be
            // rotating it, and the one it retires must not be kept.
            let _locked = match (&existing, brought_refresh_token) {
                (Some(found), false) => {
                    let locked = self.lock_refresh(&found.id).await?;
                    existing = self.store.credential_for_subject(&provider.id, &identity.subject)?;
                    grant.tokens.refresh_token = match &existing {
                        Some(now) => {
                            self.vault.read_tokens(&now.token_secret_key).await?.and_then(|t| t.refresh_token)
                        }
                        None => None,
                    };
                    Some(locked)
                }
                _ => None,
            };
            if existing.is_none() && connection.is_none() {
                // Its last connection was removed while the person signed in: a
                // credential no connection uses would only be a token nobody holds.
                return Ok(false);
            }
            let credential = signed_in(provider, &grant, identity.clone(), existing.as_ref(), at);
            let replaced = existing.as_ref().map(|old| old.token_secret_key.as_str());
            let saved = self.save_credential(&credential, &grant.tokens, connection, replaced).await?;
            if saved == GrantSaved::ChangedMeanwhile {
                continue;
            }
            let kind = match (existing, connection) {
                (None, _) => EventKind::CredentialCreated,
                (Some(_), Some(_)) => EventKind::ConnectionAdded,
                (Some(_), None) => EventKind::CredentialReauthorized,
            };
            self.log_event(kind, at, &credential.id, connection.map(|c| c.id.as_str()), None);
            return Ok(true);
        }
        Err(Error::Internal(
            "other sign-ins to the same account kept changing it while this one was kept; sign in again"
                .into(),
        ))
    }

    /// Ends the running flow `flow_id` with `result`: the flows table and the engine's
    /// event say how.
    pub(super) fn announce_outcome(&self, flow_id: &str, result: &Result<Connection>) {
        let end = match result {
            Ok(connection) => EngineEvent::FlowCompleted {
                flow_id: flow_id.to_owned(),
                connection_id: connection.id.clone(),
            },
            Err(error) => EngineEvent::FlowFailed { flow_id: flow_id.to_owned(), error: error.payload() },
        };
        self.flows.finished(flow_id, end.clone());
        let at = Timestamp::now();
        let (status, code, connection_id) = match result {
            Ok(connection) => (FlowStatus::Completed, None, Some(connection.id.as_str())),
            Err(error @ Error::FlowCancelled) => (FlowStatus::Cancelled, Some(error.code()), None),
            Err(error @ (Error::FlowExpired | Error::DeviceCodeExpired { .. })) => {
                (FlowStatus::Expired, Some(error.code()), None)
            }
            Err(error) => (FlowStatus::Failed, Some(error.code()), None),
        };
        let code = code.map(|code| code.as_str());
        if let Err(error) = self.store.record_flow_finished(flow_id, status, code, connection_id, at) {
            tracing::warn!(%error, "could not record the end of a flow");
        }
        match result {
            Ok(_) => self.events.publish(EngineEvent::ConnectionsChanged),
            Err(error) => tracing::info!(flow_id, %error, "flow ended without a connection"),
        }
        self.events.publish(end);
    }
}

/// The error a sign-in for the connection `name` ends with when it was removed
/// meanwhile, and the activity log's words for it.
fn removed_meanwhile(name: &str) -> (Error, String) {
    let error = Error::NotFound { what: "connection", key: name.to_owned() };
    (error, format!("{name} was removed during the sign-in"))
}

/// The credential a sign-in's grant makes: `existing` renewed (the same id), or a new
/// one for a new account.
fn signed_in(
    provider: &ProviderRecord,
    grant: &Grant,
    identity: Identity,
    existing: Option<&CredentialRecord>,
    at: Timestamp,
) -> CredentialRecord {
    let id = existing.map_or_else(|| uuid::Uuid::new_v4().to_string(), |c| c.id.clone());
    // A grown grant (incremental authorization) holds what it had plus what was just
    // granted; otherwise the new grant replaces the old one.
    let scopes = match existing {
        Some(old) if provider.incremental_authorization() && old.status != ConnectionStatus::Reauthorize => {
            union(&old.scopes, grant.granted_scopes())
        }
        _ => grant.granted_scopes().to_vec(),
    };
    let times = GrantTimes::of(grant, at);
    CredentialRecord {
        token_secret_key: new_token_key(&id),
        provider_id: provider.id.clone(),
        subject: identity.subject,
        account: identity.account,
        scopes,
        status: ConnectionStatus::Active,
        status_reason: None,
        times: GrantTimes {
            refresh_token_expires_at: times
                .refresh_token_expires_at
                .or_else(|| provider.sign_in_lifetime().map(|lifetime| at + lifetime))
                .or_else(|| existing.and_then(|c| c.times.refresh_token_expires_at)),
            ..times
        },
        last_refreshed_at: None,
        created_at: existing.map_or_else(|| at, |c| c.created_at),
        kind: CredentialKind::OAuth,
        pending_token_key: None,
        addresses: Some(provider.addresses()),
        signed_in_at: Some(at),
        token_details: grant.kept_fields(provider),
        id,
    }
}
