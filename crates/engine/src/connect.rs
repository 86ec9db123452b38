//! Connecting an account: the authorization flow from start to the stored credential.
//! Order matters: keychain write first, SQLite transaction second, then the event.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::flow::{authorization, identity, Authorization, Callback, CallbackListener, Grant, Identity};
use crate::model::EventKind;
use crate::model::{Connection, ConnectionStatus, FlowStarted};
use crate::schedule::refresh_due;
use crate::store::{CredentialRecord, NewConnectionRow, NewEvent, ProviderRecord};
use crate::time_text::{now, rfc3339};
use crate::vault::{self, new_token_key};
use crate::{Engine, EngineEvent, Error, Result};

/// What a flow is for.
enum Purpose {
    New {
        name: String,
    },
    /// Renew the grant behind an existing connection, for the same account only.
    Reconnect {
        connection_id: String,
        subject: String,
        account: Option<String>,
    },
}

/// A flow that has opened the browser; `outcome` resolves when it ends.
pub struct PendingFlow {
    pub started: FlowStarted,
    pub outcome: oneshot::Receiver<Result<Connection>>,
}

impl Engine {
    /// Starts connecting `provider_key` (id or name): binds the loopback listener, opens
    /// the browser on the provider's authorize URL and returns at once. The flow ends
    /// on the callback, on [`Engine::cancel_flow`] or after the time limit.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn connect(self: &Arc<Self>, provider_key: &str, name: Option<String>) -> Result<PendingFlow> {
        let provider = self.store.provider(provider_key)?;
        let name = self.connection_name(name, &provider)?;
        self.start_flow(provider, Purpose::New { name }).await
    }

    /// Signs in again for an existing connection. The connection keeps its id; signing
    /// in as a different account changes nothing.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn reconnect(self: &Arc<Self>, connection_key: &str) -> Result<PendingFlow> {
        let connection = self.connection(connection_key)?;
        let credential = self.store.credential(&self.store.credential_id_of(&connection.id)?)?;
        let provider = self.store.provider(&connection.provider_id)?;
        let purpose = Purpose::Reconnect {
            connection_id: connection.id,
            subject: credential.subject,
            account: credential.account,
        };
        self.start_flow(provider, purpose).await
    }

    async fn start_flow(self: &Arc<Self>, provider: ProviderRecord, purpose: Purpose) -> Result<PendingFlow> {
        let client_secret = self.client_secret(&provider).await?;
        if client_secret.is_none() {
            // Fail before the person signs in, not after, when there is no keychain
            // to keep the tokens in.
            self.vault.read(&vault::keychain_probe_key()).await?;
        }
        let listener = CallbackListener::bind().await?;
        let authorization = authorization(&provider, client_secret, listener.redirect_uri())?;
        let flow_id = uuid::Uuid::new_v4().to_string();
        let started_at = now();
        let time_limit = self.config.flow_time_limit;
        let started = FlowStarted {
            flow_id: flow_id.clone(),
            provider_id: provider.id.clone(),
            authorize_url: authorization.authorize_url.to_string(),
            expires_at: rfc3339(started_at + time_limit),
        };
        self.store.record_flow_started(&flow_id, &provider.id, &rfc3339(started_at))?;
        let cancelled = self.flows.insert(&flow_id);
        if let Err(error) = self.config.browser.open(&authorization.authorize_url) {
            // The flow goes on: the person can still open the link by hand.
            tracing::warn!(%error, "browser did not open");
        }

        let (outcome_tx, outcome_rx) = oneshot::channel();
        let engine = self.clone();
        tokio::spawn(async move {
            let result = tokio::select! {
                result = engine.finish_flow(listener, authorization, &provider, purpose) => result,
                _ = cancelled => Err(Error::FlowCancelled),
                _ = tokio::time::sleep(time_limit) => Err(Error::FlowExpired),
            };
            engine.flows.finished(&flow_id);
            engine.announce_outcome(&flow_id, &result);
            let _ = outcome_tx.send(result);
        });
        Ok(PendingFlow { started, outcome: outcome_rx })
    }

    /// Cancels a running flow; its listener closes and nothing is saved.
    pub fn cancel_flow(&self, flow_id: &str) -> Result<()> {
        if self.flows.cancel(flow_id) {
            Ok(())
        } else {
            Err(Error::NotFound { what: "running sign-in", key: flow_id.to_owned() })
        }
    }

    fn connection_name(&self, requested: Option<String>, provider: &ProviderRecord) -> Result<String> {
        match requested.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
            Some(name) if name.chars().count() > 100 || name.chars().any(char::is_control) => {
                Err(Error::invalid("name", "A connection name is at most 100 printable characters."))
            }
            Some(name) if self.store.connection_name_taken(&name)? => Err(Error::AlreadyExists(format!(
                "A connection named “{name}” already exists. Choose another name."
            ))),
            Some(name) => Ok(name),
            None => {
                let mut name = provider.name.clone();
                let mut number = 2;
                while self.store.connection_name_taken(&name)? {
                    name = format!("{} ({number})", provider.name);
                    number += 1;
                }
                Ok(name)
            }
        }
    }

    async fn finish_flow(
        &self,
        listener: CallbackListener,
        authorization: Authorization,
        provider: &ProviderRecord,
        purpose: Purpose,
    ) -> Result<Connection> {
        let code = match listener.wait(&authorization.state.clone(), provider.issuer.as_deref()).await? {
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
        let grant = authorization.redeem(code, &self.http, &provider.name).await?;
        let identity = identity(provider, &grant.tokens, &self.http).await?;
        match purpose {
            Purpose::New { name } => {
                let created = self.store_grant(provider, grant, identity, Some(name)).await?;
                self.connection(&created.expect("a named grant creates a connection"))
            }
            Purpose::Reconnect { connection_id, subject, account } => {
                if identity.subject != subject {
                    return Err(Error::DifferentAccount {
                        expected: account.unwrap_or(subject),
                        found: crate::error::provider_text(&identity.account.unwrap_or(identity.subject)),
                    });
                }
                self.store_grant(provider, grant, identity, None).await?;
                self.connection(&connection_id)
            }
        }
    }

    /// Stores the grant on the account's credential (new, or merged into the one the
    /// account already has) and, given a name, a new connection on it. Returns the new
    /// connection's id.
    async fn store_grant(
        &self,
        provider: &ProviderRecord,
        mut grant: Grant,
        identity: Identity,
        name: Option<String>,
    ) -> Result<Option<String>> {
        let at = now();
        let existing = self.store.credential_for_subject(&provider.id, &identity.subject)?;
        let credential_id =
            existing.as_ref().map_or_else(|| uuid::Uuid::new_v4().to_string(), |c| c.id.clone());
        if let (Some(existing), None) = (&existing, &grant.tokens.refresh_token) {
            // A re-authorization without a new refresh token keeps the old one.
            if let Some(old) = self.vault.read_tokens(&existing.token_secret_key).await? {
                grant.tokens.refresh_token = old.refresh_token;
            }
        }
        let token_key = new_token_key(&credential_id);
        self.vault.write_tokens(&token_key, &grant.tokens).await?;

        let credential = CredentialRecord {
            id: credential_id.clone(),
            provider_id: provider.id.clone(),
            subject: identity.subject,
            account: identity.account,
            scopes: grant.scopes,
            token_secret_key: token_key.clone(),
            status: ConnectionStatus::Active,
            status_reason: None,
            expires_at: grant
                .expires_in
                .and_then(|d| time::Duration::try_from(d).ok())
                .map(|d| rfc3339(at + d)),
            refresh_due_at: grant
                .expires_in
                .filter(|_| grant.tokens.refresh_token.is_some())
                .map(|lifetime| rfc3339(refresh_due(at, lifetime))),
            last_refreshed_at: None,
            created_at: existing.as_ref().map_or_else(|| rfc3339(at), |c| c.created_at.clone()),
        };
        let connection = name.map(|name| NewConnectionRow {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            integration: provider.name.clone(),
            created_at: rfc3339(at),
        });
        if let Err(error) = self.store.save_grant(&credential, connection.as_ref()) {
            let _ = self.vault.delete(&token_key).await;
            return Err(error);
        }
        let kind = match existing {
            Some(existing) => {
                self.vault.delete(&existing.token_secret_key).await?;
                EventKind::CredentialReauthorized
            }
            None => EventKind::CredentialCreated,
        };
        let connection_id = connection.map(|c| c.id);
        self.store.record_event(&NewEvent {
            kind,
            at: &rfc3339(at),
            credential_id: Some(&credential_id),
            connection_id: connection_id.as_deref(),
            subject: None,
            detail: None,
        })?;
        Ok(connection_id)
    }

    fn announce_outcome(&self, flow_id: &str, result: &Result<Connection>) {
        let at = rfc3339(now());
        let (status, code, connection_id) = match result {
            Ok(connection) => ("completed", None, Some(connection.id.as_str())),
            Err(Error::FlowCancelled) => ("cancelled", Some("flow_cancelled"), None),
            Err(Error::FlowExpired) => ("expired", Some("flow_expired"), None),
            Err(error) => ("failed", Some(error.code().as_str()), None),
        };
        if let Err(error) = self.store.record_flow_finished(flow_id, status, code, connection_id, &at) {
            tracing::warn!(%error, "could not record the end of a flow");
        }
        match result {
            Ok(connection) => {
                self.events.publish(EngineEvent::ConnectionsChanged);
                self.events.publish(EngineEvent::FlowCompleted {
                    flow_id: flow_id.to_owned(),
                    connection_id: connection.id.clone(),
                });
            }
            Err(error) => {
                tracing::info!(flow_id, %error, "flow ended without a connection");
                self.events
                    .publish(EngineEvent::FlowFailed { flow_id: flow_id.to_owned(), error: error.payload() })
            }
        }
    }
}
