//! Starting a sign-in: for a new connection, to reconnect one (same id, same account
//! only) or to grant it more access; by browser or by device code. `sign_in.rs` ends it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::api::{ConnectOptions, Connection, FlowStarted};
use crate::catalog::ClientSecretRule;
use crate::integration::union;
use crate::oauth::{
    authorization, device_authorization, Authorization, AuthorizationRequest, CallbackListener,
    DeviceAuthorization, PastedAddress,
};
use crate::provider::ProviderRecord;
use crate::store::{CredentialKind, CredentialRecord};
use crate::vault;
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error, Result, Secret};

/// What a flow is for.
pub(crate) enum Purpose {
    New {
        name: String,
        integration: String,
    },
    /// Renew or grow the grant behind an existing connection, for the same account only.
    Existing {
        connection_id: String,
        /// As it was named when the sign-in began, to name it if it is removed meanwhile.
        name: String,
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
pub(super) enum Waiting {
    Callback(CallbackListener, Box<Authorization>),
    Device(Box<DeviceAuthorization>),
}

impl Waiting {
    /// The provider's authorize URL, or the page to type the device code on.
    fn sign_in_url(&self) -> &url::Url {
        match self {
            Waiting::Callback(_, authorization) => &authorization.authorize_url,
            Waiting::Device(device) => &device.verification_url,
        }
    }

    fn user_code(&self) -> Option<String> {
        match self {
            Waiting::Callback(..) => None,
            Waiting::Device(device) => Some(device.user_code.clone()),
        }
    }
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
        let hint = account_hint(options.account.as_deref())?;
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
        if let CredentialKind::ApiKey { .. } = credential.kind {
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
            name: connection.name,
            subject: credential.subject,
            account: credential.account,
        };
        self.start_flow(provider, scopes, hint.as_deref(), purpose, sign_in).await
    }

    pub(crate) async fn start_flow(
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
        // A resource's sign-in may first register Grantkeeper for the listener's address.
        let (provider, listener) = match (&provider.resource, sign_in) {
            (Some(_), SignIn::Browser) => {
                let (provider, listener) = self.resource_sign_in(provider).await?;
                (provider, Some(listener))
            }
            _ => (provider, None),
        };
        let client_secret = self.client_secret(&provider).await?;
        if client_secret.is_none() {
            secret_not_needed(&provider)?;
            // Fail before the person signs in, not after, when there is no keychain
            // to keep the tokens in.
            self.vault.read(&vault::keychain_probe_key()).await?;
        }
        let scopes = union(&provider.base_scopes(), scopes);
        let request = AuthorizationRequest { scopes: &scopes, login_hint };
        let (waiting, time_limit) =
            self.wait_for(sign_in, listener, &provider, client_secret, request).await?;
        let flow_id = uuid::Uuid::new_v4().to_string();
        let started_at = Timestamp::now();
        let mut started = FlowStarted {
            flow_id: flow_id.clone(),
            provider_id: provider.id.clone(),
            provider_name: provider.name.clone(),
            authorize_url: waiting.sign_in_url().to_string(),
            user_code: waiting.user_code(),
            expires_at: started_at + time_limit,
            browser_error: None,
        };
        self.store.record_flow_started(&flow_id, &provider.id, started_at)?;
        // The device page came from the network: it is shown, never opened (only the
        // provider's authorize URL is).
        if let Waiting::Callback(_, authorization) = &waiting {
            if let Err(error) = self.config.browser.open(&authorization.authorize_url).await {
                // The flow goes on: the person can still open the link by hand.
                tracing::warn!(%error, "browser did not open");
                started.browser_error = Some(match error {
                    Error::Internal(reason) => reason,
                    other => other.to_string(),
                });
            }
        }
        let outcome = self.run_flow(flow_id, waiting, provider, purpose, time_limit);
        Ok(PendingFlow { started, outcome })
    }

    /// What a sign-in waits for, and how long it may take: a loopback listener for the
    /// browser's callback (`listener`, or one bound here), or a device code the person
    /// types on the provider's page.
    async fn wait_for(
        &self,
        sign_in: SignIn,
        listener: Option<CallbackListener>,
        provider: &ProviderRecord,
        client_secret: Option<Secret>,
        request: AuthorizationRequest<'_>,
    ) -> Result<(Waiting, Duration)> {
        let time_limit = self.config.flow_time_limit;
        match sign_in {
            SignIn::Browser => {
                let (host, port) = provider
                    .spec
                    .map_or(("127.0.0.1", None), |s| (s.redirect.host.as_str(), s.redirect.port));
                let listener = match listener {
                    Some(listener) => listener,
                    None => CallbackListener::bind(host, port).await?,
                };
                let authorization = authorization(provider, client_secret, listener.redirect_uri(), request)?;
                Ok((Waiting::Callback(listener, Box::new(authorization)), time_limit))
            }
            SignIn::Device => {
                let device =
                    device_authorization(provider, client_secret, request.scopes, &self.http).await?;
                let time_limit = time_limit.min(device.expires_in);
                Ok((Waiting::Device(Box::new(device)), time_limit))
            }
        }
    }

    /// Runs a started flow in the background until it ends: completed, failed,
    /// cancelled or out of time.
    fn run_flow(
        self: &Arc<Self>,
        flow_id: String,
        waiting: Waiting,
        provider: ProviderRecord,
        purpose: Purpose,
        time_limit: Duration,
    ) -> oneshot::Receiver<Result<Connection>> {
        let takes_addresses = matches!(waiting, Waiting::Callback(..));
        // A device sign-in ends itself when its code runs out, saying whether the provider
        // was failing meanwhile (a poll may end a backed-off wait after the limit); this
        // is only its backstop.
        let out_of_time = match waiting {
            Waiting::Callback(..) => time_limit,
            Waiting::Device(_) => time_limit + Duration::from_secs(120),
        };
        let (cancelled, mut pasted) = self.flows.insert(&flow_id, takes_addresses);
        let (outcome_tx, outcome_rx) = oneshot::channel();
        let engine = self.clone();
        tokio::spawn(async move {
            let result = tokio::select! {
                // Keeping it is not interrupted: stopped halfway, its tokens could stay in
                // the keychain with nothing pointing at them, and the grant unrevoked.
                grant = engine.receive_grant(waiting, &provider, time_limit, &mut pasted) => match grant {
                    Ok(grant) => engine.keep_grant(&provider, purpose, grant).await,
                    Err(error) => Err(error),
                },
                _ = cancelled => Err(Error::FlowCancelled),
                _ = tokio::time::sleep(out_of_time) => Err(Error::FlowExpired),
            };
            engine.announce_outcome(&flow_id, &result);
            let _ = outcome_tx.send(result);
        });
        outcome_rx
    }

    /// Finishes a running sign-in with the address its browser was sent back to, pasted
    /// by the person from a browser on another device (which cannot reach this
    /// machine's loopback listener). An error says why the address is not this
    /// sign-in's, and the sign-in goes on waiting; the outcome comes as for any sign-in.
    pub async fn answer_flow(&self, flow_id: &str, address: &str) -> Result<()> {
        let not_running = || Error::NotFound { what: "running sign-in", key: flow_id.to_owned() };
        let Some(pasted) = self.flows.pasted(flow_id).ok_or_else(not_running)? else {
            return Err(Error::invalid(
                "address",
                "This sign-in is by code: enter the code on the provider's page instead.",
            ));
        };
        let (checked, answer) = oneshot::channel();
        pasted
            .send(PastedAddress { address: address.to_owned(), checked })
            .await
            .map_err(|_| not_running())?;
        // No answer: the sign-in ended meanwhile.
        answer.await.map_err(|_| not_running())?
    }

    /// How the sign-in `flow_id` ended, as its end event said: for a window that missed
    /// the event. None while it runs, and for one that is not among the latest to end
    /// in this process.
    pub fn flow_end(&self, flow_id: &str) -> Option<EngineEvent> {
        self.flows.end_of(flow_id)
    }

    /// Cancels a running flow; its listener closes and nothing is saved.
    pub fn cancel_flow(&self, flow_id: &str) -> Result<()> {
        if self.flows.cancel(flow_id) {
            Ok(())
        } else {
            Err(Error::NotFound { what: "running sign-in", key: flow_id.to_owned() })
        }
    }
}

/// The account a sign-in should pick (an email address or login), as the provider's
/// login hint: one line, at most the 254 characters an email address can have.
fn account_hint(given: Option<&str>) -> Result<Option<&str>> {
    let hint = given.map(str::trim).filter(|a| !a.is_empty());
    match hint {
        Some(h) if h.chars().count() > 254 || h.chars().any(crate::error::misleads) => Err(Error::invalid(
            "account",
            "The account must be an email address or login on one line, at most 254 characters.",
        )),
        _ => Ok(hint),
    }
}

/// A provider app an organisation supplied has no secret (a file never holds one); where
/// the provider requires one, the code exchange would fail after the person signed in.
fn secret_not_needed(provider: &ProviderRecord) -> Result<()> {
    let required = provider.spec.is_some_and(|s| s.client_secret == ClientSecretRule::Required);
    match &provider.app.supplied_from {
        Some(file) if required => Err(Error::invalid(
            "client_secret",
            format!(
                "{name} needs a client secret, and the provider app {file} supplies has none (a supplied app is a \
                 public client). Set up your own: grantkeeper providers set {id} --client-id … --client-secret-stdin, \
                 or under Provider apps.",
                name = provider.name,
                file = file.display(),
                id = provider.app.provider_id,
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::account_hint;

    #[test]
    fn an_account_hint_is_one_short_line() {
        assert_eq!(account_hint(Some("  ada@example.com ")).unwrap(), Some("ada@example.com"));
        assert_eq!(account_hint(Some("   ")).unwrap(), None);
        for bad in ["ada\nbob", "a\u{1b}[2J", &"a".repeat(255)] {
            assert_eq!(account_hint(Some(bad)).unwrap_err().field(), Some("account"), "{bad:.20}");
        }
    }
}
