//! Connecting an account: the authorization flow from start to the stored credential.
//! Order matters: keychain write first, SQLite transaction second, then the event.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::api::EventKind;
use crate::api::{ConnectOptions, Connection, ConnectionStatus, FlowStarted};
use crate::integration::union;
use crate::oauth::{
    authorization, device_authorization, identity, Authorization, AuthorizationRequest, Callback,
    CallbackListener, DeviceAuthorization, Grant, Identity,
};
use crate::provider::ProviderRecord;
use crate::runtime::{refresh_due, CHECK_INTERVAL};
use crate::store::{CredentialRecord, FlowStatus, NewConnectionRow, NewEvent};
use crate::time_text::{now, rfc3339};
use crate::vault::{self, new_token_key};
use crate::{Engine, EngineEvent, Error, Result};

/// What a flow is for.
enum Purpose {
    New {
        name: String,
        integration: String,
    },
    /// Renew or grow the grant behind an existing connection, for the same account only.
    Existing {
        connection_id: String,
        subject: String,
        account: Option<String>,
    },
}

/// Where the person signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// This machine's browser, answering on a loopback redirect.
    Browser,
    /// The provider's page on any device, with a code (device authorization grant).
    Device,
}

/// What a started flow waits for.
enum Waiting {
    Callback(CallbackListener, Box<Authorization>),
    Device(Box<DeviceAuthorization>),
}

/// A flow that has opened the browser; `outcome` resolves when it ends.
pub struct PendingFlow {
    pub started: FlowStarted,
    pub outcome: oneshot::Receiver<Result<Connection>>,
}

impl Engine {
    /// Starts connecting an integration (catalog id or name, or a custom provider):
    /// binds the loopback listener, opens the browser on the provider's authorize URL
    /// and returns at once. The flow ends on the callback, on [`Engine::cancel_flow`]
    /// or after the time limit.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn connect(
        self: &Arc<Self>,
        integration_key: &str,
        options: ConnectOptions,
    ) -> Result<PendingFlow> {
        let target = self.target(integration_key, &options.scopes)?;
        let name = self.connection_name(options.name, &target.integration_name)?;
        let hint = options.account.as_deref().map(str::trim).filter(|a| !a.is_empty());
        // The credential this sign-in will most likely land on: the hinted account's,
        // or the only one at this provider.
        let credentials = self.store.credentials_at(&target.provider.id)?;
        let likely = match hint {
            Some(hint) => credentials.iter().find(|c| {
                c.account.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(hint)) || c.subject == hint
            }),
            None if credentials.len() == 1 => credentials.first(),
            None => None,
        };
        let scopes = match likely {
            // Without incremental authorization a new grant replaces the old one, so
            // it must ask again for what the credential already has.
            Some(credential) if !target.provider.incremental_authorization() => {
                union(&credential.scopes, &target.needed)
            }
            _ => target.needed.clone(),
        };
        let purpose = Purpose::New { name, integration: target.integration_id };
        let sign_in = if options.device { SignIn::Device } else { SignIn::Browser };
        self.start_flow(target.provider, &scopes, hint, purpose, sign_in).await
    }

    /// Signs in again for an existing connection. The connection keeps its id; signing
    /// in as a different account changes nothing.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn reconnect(self: &Arc<Self>, connection_key: &str) -> Result<PendingFlow> {
        self.reconnect_by(connection_key, SignIn::Browser).await
    }

    /// [`Engine::reconnect`], signing in where `sign_in` says.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn reconnect_by(
        self: &Arc<Self>,
        connection_key: &str,
        sign_in: SignIn,
    ) -> Result<PendingFlow> {
        let (connection, credential, provider) = self.existing(connection_key)?;
        let mut scopes = credential.scopes.clone();
        for other in self.store.connections_on(&credential.id)? {
            scopes = union(&scopes, &self.integration_needs(&other.integration).1);
        }
        if provider.spec.is_none() {
            scopes = union(&provider.scopes, &scopes);
        }
        self.start_existing(connection, credential, provider, &scopes, sign_in).await
    }

    /// Asks the provider for exactly the scopes a Needs-more-access connection lacks
    /// (with the ones already granted, where the provider cannot grow a grant).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn grant_access(self: &Arc<Self>, connection_key: &str) -> Result<PendingFlow> {
        let (connection, credential, provider) = self.existing(connection_key)?;
        let connection = self.decorate(connection);
        if connection.missing_scopes.is_empty() {
            return Err(Error::InvalidInput {
                field: None,
                message: format!("“{}” already has all the access it needs.", connection.name),
            });
        }
        let scopes = if provider.incremental_authorization() {
            connection.missing_scopes.clone()
        } else {
            union(&credential.scopes, &connection.missing_scopes)
        };
        self.start_existing(connection, credential, provider, &scopes, SignIn::Browser).await
    }

    fn existing(&self, connection_key: &str) -> Result<(Connection, CredentialRecord, ProviderRecord)> {
        let connection = self.connection(connection_key)?;
        let credential = self.store.credential(&self.store.credential_id_of(&connection.id)?)?;
        if credential.key_fields.is_some() {
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "“{}” uses an API key. Paste a new one instead: `grantkeeper keys add {} --replace \"{}\" --key-stdin`.",
                    connection.name, connection.integration, connection.name
                ),
            });
        }
        let provider = self.provider_record(&credential.provider_id)?;
        Ok((connection, credential, provider))
    }

    async fn start_existing(
        self: &Arc<Self>,
        connection: Connection,
        credential: CredentialRecord,
        provider: ProviderRecord,
        scopes: &[String],
        sign_in: SignIn,
    ) -> Result<PendingFlow> {
        let hint = credential.account.clone();
        let purpose = Purpose::Existing {
            connection_id: connection.id,
            subject: credential.subject,
            account: credential.account,
        };
        self.start_flow(provider, scopes, hint.as_deref(), purpose, sign_in).await
    }

    async fn start_flow(
        self: &Arc<Self>,
        provider: ProviderRecord,
        scopes: &[String],
        login_hint: Option<&str>,
        purpose: Purpose,
        sign_in: SignIn,
    ) -> Result<PendingFlow> {
        if !provider.app.enabled {
            return Err(Error::ProviderAppDisabled { provider: provider.name.clone() });
        }
        let client_secret = self.client_secret(&provider).await?;
        if client_secret.is_none() {
            // Fail before the person signs in, not after, when there is no keychain
            // to keep the tokens in.
            self.vault.read(&vault::keychain_probe_key()).await?;
        }
        let scopes = union(&provider.base_scopes(), scopes);
        let flow_id = uuid::Uuid::new_v4().to_string();
        let started_at = now();
        let mut time_limit = self.config.flow_time_limit;
        let (waiting, sign_in_url, user_code) = match sign_in {
            SignIn::Browser => {
                let (host, port) = provider
                    .spec
                    .map_or(("127.0.0.1", None), |s| (s.redirect.host.as_str(), s.redirect.port));
                let listener = CallbackListener::bind(host, port).await?;
                let request = AuthorizationRequest { scopes: &scopes, login_hint };
                let authorization =
                    authorization(&provider, client_secret, listener.redirect_uri(), request)?;
                let url = authorization.authorize_url.clone();
                (Waiting::Callback(listener, Box::new(authorization)), url, None)
            }
            SignIn::Device => {
                let device = device_authorization(&provider, client_secret, &scopes, &self.http).await?;
                time_limit = time_limit.min(device.expires_in);
                let (url, code) = (device.verification_url.clone(), device.user_code.clone());
                (Waiting::Device(Box::new(device)), url, Some(code))
            }
        };
        let started = FlowStarted {
            flow_id: flow_id.clone(),
            provider_id: provider.id.clone(),
            authorize_url: sign_in_url.to_string(),
            user_code,
            expires_at: rfc3339(started_at + time_limit),
        };
        self.store.record_flow_started(&flow_id, &provider.id, &rfc3339(started_at))?;
        let cancelled = self.flows.insert(&flow_id);
        // The device page came from the network: it is shown, never opened (only the
        // provider's authorize URL is).
        if let Waiting::Callback(..) = waiting {
            if let Err(error) = self.config.browser.open(&sign_in_url) {
                // The flow goes on: the person can still open the link by hand.
                tracing::warn!(%error, "browser did not open");
            }
        }

        let (outcome_tx, outcome_rx) = oneshot::channel();
        let engine = self.clone();
        tokio::spawn(async move {
            let result = tokio::select! {
                result = engine.finish_flow(waiting, &provider, purpose, time_limit) => result,
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

    /// Gives a connection another name; its id stays.
    pub fn rename_connection(&self, key: &str, name: &str) -> Result<Connection> {
        let connection = self.connection(key)?;
        let name = self.check_name(name.trim())?;
        // A change of case only is a rename too; any other taken name is refused.
        if !name.eq_ignore_ascii_case(&connection.name) {
            self.connection_name(Some(name.clone()), &connection.name)?;
        }
        self.store.rename_connection(&connection.id, &name)?;
        self.events.publish(EngineEvent::ConnectionsChanged);
        self.connection(&connection.id)
    }

    fn check_name(&self, name: &str) -> Result<String> {
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Error::invalid("name", "A connection name is 1 to 100 printable characters."));
        }
        Ok(name.to_owned())
    }

    pub(crate) fn connection_name(&self, requested: Option<String>, default: &str) -> Result<String> {
        match requested.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
            Some(name) if self.check_name(&name).is_err() => self.check_name(&name),
            Some(name) if self.store.connection_name_taken(&name)? => Err(Error::AlreadyExists(format!(
                "A connection named “{name}” already exists. Choose another name."
            ))),
            Some(name) => Ok(name),
            None => {
                let mut name = default.to_owned();
                let mut number = 2;
                while self.store.connection_name_taken(&name)? {
                    name = format!("{default} ({number})");
                    number += 1;
                }
                Ok(name)
            }
        }
    }

    async fn finish_flow(
        &self,
        waiting: Waiting,
        provider: &ProviderRecord,
        purpose: Purpose,
        time_limit: std::time::Duration,
    ) -> Result<Connection> {
        let grant = match waiting {
            Waiting::Callback(listener, authorization) => {
                self.receive_code(listener, *authorization, provider).await?
            }
            Waiting::Device(device) => device.redeem(provider, &self.http, time_limit).await?,
        };
        let identity = identity(provider, &grant, &self.http).await?;
        match purpose {
            Purpose::New { name, integration } => {
                let connection = NewConnectionRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    name,
                    integration,
                    created_at: rfc3339(now()),
                };
                let created = self.store_grant(provider, grant, identity, Some(connection)).await?;
                self.connection(&created.expect("a new connection was stored"))
            }
            Purpose::Existing { connection_id, subject, account } => {
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

    /// The browser's answer on the loopback listener, redeemed for tokens.
    async fn receive_code(
        &self,
        listener: CallbackListener,
        authorization: Authorization,
        provider: &ProviderRecord,
    ) -> Result<Grant> {
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
        authorization.redeem(code, provider, &self.http).await
    }

    /// Stores the grant on the account's credential (new, or merged into the one the
    /// account already has) and, when given, a new connection on it. Returns the new
    /// connection's id.
    async fn store_grant(
        &self,
        provider: &ProviderRecord,
        mut grant: Grant,
        identity: Identity,
        connection: Option<NewConnectionRow>,
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
        // A grown grant (incremental authorization) holds what it had plus what was
        // just granted; otherwise the new grant replaces the old one.
        let scopes = match &existing {
            Some(old)
                if provider.incremental_authorization() && old.status != ConnectionStatus::Reauthorize =>
            {
                union(&old.scopes, &grant.scopes)
            }
            _ => grant.scopes.clone(),
        };
        let token_key = new_token_key(&credential_id);
        self.vault.write_tokens(&token_key, &grant.tokens).await?;

        let credential = CredentialRecord {
            id: credential_id.clone(),
            provider_id: provider.id.clone(),
            subject: identity.subject,
            account: identity.account,
            scopes,
            token_secret_key: token_key.clone(),
            status: ConnectionStatus::Active,
            status_reason: None,
            expires_at: grant
                .expires_in
                .and_then(|d| time::Duration::try_from(d).ok())
                .map(|d| rfc3339(at + d)),
            refresh_due_at: match grant.expires_in {
                Some(lifetime) => {
                    grant.tokens.refresh_token.is_some().then(|| rfc3339(refresh_due(at, lifetime)))
                }
                // Nothing expires: check it with the provider now and then.
                None => Some(rfc3339(at + CHECK_INTERVAL)),
            },
            last_refreshed_at: None,
            created_at: existing.as_ref().map_or_else(|| rfc3339(at), |c| c.created_at.clone()),
            key_fields: None,
            pending_token_key: None,
            refresh_token_expires_at: lapse_of(&grant, at)
                .or_else(|| existing.as_ref().and_then(|c| c.refresh_token_expires_at.clone())),
        };
        if let Err(error) = self.store.save_grant(&credential, connection.as_ref()) {
            let _ = self.vault.delete(&token_key).await;
            return Err(error);
        }
        let kind = match existing {
            Some(existing) => {
                self.delete_replaced_secret(&existing.token_secret_key).await?;
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
            Ok(connection) => (FlowStatus::Completed, None, Some(connection.id.as_str())),
            Err(Error::FlowCancelled) => (FlowStatus::Cancelled, Some("flow_cancelled"), None),
            Err(Error::FlowExpired) => (FlowStatus::Expired, Some("flow_expired"), None),
            Err(error) => (FlowStatus::Failed, Some(error.code().as_str()), None),
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

/// When a grant's refresh token lapses, where the provider said.
fn lapse_of(grant: &Grant, at: time::OffsetDateTime) -> Option<String> {
    let lifetime = time::Duration::try_from(grant.extras.refresh_token_lifetime()?).ok()?;
    Some(rfc3339(at + lifetime))
}
