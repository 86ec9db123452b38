//! API-key credentials: a key (and its other fields) a person pastes for a service
//! such as OpenAI or Twilio, optionally checked with the service before it is saved.
//! Secret fields live in the keychain; the rest (an Account SID, the API's address)
//! in SQLite.

use std::collections::BTreeMap;

use super::GrantTimes;
use crate::api::{CheckResult, NewApiKey};
use crate::api::{Connection, ConnectionStatus, EventKind, SecretInput};
use crate::catalog::{ApiKeySpec, Catalog, IntegrationSpec};
use crate::credential::check::{run_check, Checked};
use crate::provider::provider_url;
use crate::runtime::CHECK_INTERVAL;
use crate::store::{CredentialKind, CredentialRecord, GrantSaved, NewConnectionRow};
use crate::vault::{new_token_key, TokenSet};
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error, Result, Secret};

const FIELD_LIMIT: usize = 4096;

impl Engine {
    /// Saves an API key as a connection (or as the new key of an existing one).
    /// Nothing is saved when a field is wrong or the service rejects the key.
    #[tracing::instrument(skip(self, input), err(Display))]
    pub async fn add_api_key(&self, integration_key: &str, input: NewApiKey) -> Result<Connection> {
        let (id, integration, spec) = api_key_integration(integration_key)?;
        // Where the key goes, refused before the service is asked about the key.
        let target = match &input.replace {
            Some(connection) => {
                KeyFor::Replacing(Box::new(self.replaceable(connection, id, &integration.name)?))
            }
            None => KeyFor::New { name: self.connection_name(input.name, &integration.name)? },
        };
        // A new key for a connection changes the key alone: its address and the fields
        // that are not secret (an Account SID) stay, unless given anew.
        let kept = match &target {
            KeyFor::Replacing(replaced) => match &replaced.1.kind {
                CredentialKind::ApiKey { fields } => fields.clone(),
                CredentialKind::OAuth => BTreeMap::new(),
            },
            KeyFor::New { .. } => BTreeMap::new(),
        };
        let mut given = input.fields;
        for field in spec.fields.iter().filter(|field| !field.secret) {
            if let (false, Some(value)) = (given.contains_key(&field.id), kept.get(&field.id)) {
                given.insert(field.id.clone(), value.as_str().into());
            }
        }
        let (secrets, mut plain) = check_fields(integration, spec, given)?;
        if let Some(address) = base_url(input.base_url.as_deref(), kept.get("base_url"), spec)? {
            plain.insert("base_url".into(), address);
        }
        let key = secrets.get(&spec.token_field).expect("check_fields requires the token field").clone();
        let account = match input.check {
            true => self.checked_account(integration, &plain, &secrets, &key).await?,
            false => None,
        };
        let account = account.or_else(|| key.last4().map(|last4| format!("key •••• {last4}")));
        let tokens = TokenSet {
            secret_fields: secrets.into_iter().filter(|(field, _)| *field != spec.token_field).collect(),
            ..TokenSet::oauth(key, None, None)
        };
        let at = Timestamp::now();
        let replaced = match &target {
            KeyFor::Replacing(replaced) => Some(&replaced.1),
            KeyFor::New { .. } => None,
        };
        let credential = key_credential(id, integration, account, plain, replaced, at);
        let (connection_id, kind) = self.keep_key(&credential, &tokens, target, id, at).await?;
        self.log_event(kind, at, &credential.id, Some(&connection_id), None);
        self.events.publish(EngineEvent::ConnectionsChanged);
        self.connection(&connection_id)
    }

    /// What the service's check says of the key: the account it names, if any; an
    /// error when it refuses the key. None for a service without a check.
    async fn checked_account(
        &self,
        integration: &IntegrationSpec,
        plain: &BTreeMap<String, String>,
        secrets: &BTreeMap<String, Secret>,
        key: &Secret,
    ) -> Result<Option<String>> {
        let Some(check) = &integration.check else { return Ok(None) };
        let values = field_values(plain, secrets);
        match run_check(&self.http, check, &values, key, &integration.name).await?.0 {
            Checked::Accepted { account } => Ok(account),
            Checked::Limited { .. } => Ok(None),
            Checked::Rejected { status } => {
                Err(Error::KeyRejected { service: integration.name.clone(), status })
            }
        }
    }

    /// Saves the key's credential where `target` says: the connection's id, and what
    /// the activity log records.
    async fn keep_key(
        &self,
        credential: &CredentialRecord,
        tokens: &TokenSet,
        target: KeyFor,
        integration_id: &str,
        at: Timestamp,
    ) -> Result<(String, EventKind)> {
        match target {
            KeyFor::Replacing(replaced) => {
                let (connection, old) = *replaced;
                let replaced = Some(old.token_secret_key.as_str());
                if self.save_credential(credential, tokens, None, replaced).await?
                    == GrantSaved::ChangedMeanwhile
                {
                    // Removed while the service checked the new key, or given another.
                    if let Err(Error::NotFound { .. }) = self.connection(&connection.id) {
                        return Err(Error::NotFound { what: "connection", key: connection.name });
                    }
                    return Err(Error::invalid(
                        "replace",
                        format!(
                            "“{}” was given another key while this one was checked. Replace it again to keep this one.",
                            connection.name
                        ),
                    ));
                }
                Ok((connection.id, EventKind::CredentialReauthorized))
            }
            KeyFor::New { name } => {
                let row = NewConnectionRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    name,
                    integration: integration_id.to_owned(),
                    created_at: at,
                };
                self.save_credential(credential, tokens, Some(&row), None).await?;
                Ok((row.id, EventKind::CredentialCreated))
            }
        }
    }

    /// The connection `key` of the service `id` (named `service`), whose key is replaced.
    fn replaceable(&self, key: &str, id: &str, service: &str) -> Result<(Connection, CredentialRecord)> {
        // The key it had is deleted: no prefix may pick the connection.
        let connection = self.connection_named_whole(key, "replace its key")?;
        if connection.integration != id {
            return Err(Error::invalid(
                "replace",
                format!(
                    "“{}” is a connection to {}, not to {service}; name a connection to {service} to replace its key.",
                    connection.name, connection.integration_name
                ),
            ));
        }
        let credential = self.store.credential(&self.store.credential_id_of(&connection.id)?)?;
        Ok((connection, credential))
    }

    /// Checks a stored key with its service; a rejected key needs the person.
    pub(crate) async fn test_api_key(
        &self,
        connection: &Connection,
        credential: &CredentialRecord,
        plain: &BTreeMap<String, String>,
    ) -> Result<CheckResult> {
        let integration = Catalog::builtin()
            .integration_by_id(&connection.integration)
            .ok_or_else(|| Error::NotFound { what: "integration", key: connection.integration.clone() })?;
        let Some(check) = &integration.check else {
            return Err(Error::InvalidInput {
                field: None,
                message: format!("{} has no endpoint Grantkeeper can test a key with.", integration.name),
            });
        };
        let spec = integration.api_key.as_ref().expect("an API-key credential's integration has a key spec");
        let tokens = self.stored_tokens(connection, credential).await?;
        let mut secrets = tokens.secret_fields.clone();
        secrets.insert(spec.token_field.clone(), tokens.access_token.clone());
        let values = field_values(plain, &secrets);
        match run_check(&self.http, check, &values, &tokens.access_token, &integration.name).await? {
            (Checked::Accepted { account }, url) => {
                Ok(CheckResult { connection: connection.name.clone(), account, url, limited: None })
            }
            (Checked::Limited { status }, url) => Ok(CheckResult {
                connection: connection.name.clone(),
                account: None,
                url,
                limited: Some(status),
            }),
            (Checked::Rejected { status }, _) => {
                let reason = format!("{} rejected the key (HTTP {status})", integration.name);
                self.needs_reauthorization(connection, credential, &reason)
            }
        }
    }
}

fn api_key_integration(key: &str) -> Result<(&'static str, &'static IntegrationSpec, &'static ApiKeySpec)> {
    match Catalog::builtin().integration(key) {
        Some((id, integration)) => match &integration.api_key {
            Some(spec) => Ok((id, integration, spec)),
            None => Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "{} connects by signing in, not with a key: `grantkeeper connect {id}`.",
                    integration.name
                ),
            }),
        },
        None => Err(Error::NotFound { what: "integration", key: key.trim().to_owned() }),
    }
}

/// The API's address: the one the person gave, checked (blank: the catalog's); else the
/// one of the key it replaces; else the catalog's.
fn base_url(given: Option<&str>, kept: Option<&String>, spec: &ApiKeySpec) -> Result<Option<String>> {
    match given.map(str::trim) {
        Some(url) if !url.is_empty() => {
            let url = provider_url("base_url", "API address", url)?;
            Ok(Some(url.as_str().trim_end_matches('/').to_owned()))
        }
        Some(_) => Ok(spec.base_url.clone()),
        None => Ok(kept.cloned().or_else(|| spec.base_url.clone())),
    }
}

/// The credential an API key makes: every key is its own credential (a replaced key's,
/// with the same id) and its own subject; its non-secret fields are kept in the open.
fn key_credential(
    integration_id: &str,
    integration: &IntegrationSpec,
    account: Option<String>,
    plain: BTreeMap<String, String>,
    replaced: Option<&CredentialRecord>,
    at: Timestamp,
) -> CredentialRecord {
    let id = replaced.map_or_else(|| uuid::Uuid::new_v4().to_string(), |c| c.id.clone());
    CredentialRecord {
        token_secret_key: new_token_key(&id),
        provider_id: integration_id.to_owned(),
        subject: id.clone(),
        account,
        scopes: Vec::new(),
        status: ConnectionStatus::Active,
        status_reason: None,
        // Keys do not expire: the scheduler checks them with the service now and then.
        times: GrantTimes {
            refresh_due_at: integration.check.as_ref().map(|_| at + CHECK_INTERVAL),
            ..GrantTimes::default()
        },
        last_refreshed_at: None,
        created_at: replaced.map_or_else(|| at, |c| c.created_at),
        kind: CredentialKind::ApiKey { fields: plain },
        pending_token_key: None,
        addresses: None,
        signed_in_at: None,
        token_details: Default::default(),
        id,
    }
}

/// Where a new key goes.
enum KeyFor {
    /// An existing connection of the same service, and its credential.
    Replacing(Box<(Connection, CredentialRecord)>),
    New {
        name: String,
    },
}

/// Every field present, well-formed and known: (secret fields, plain fields).
fn check_fields(
    integration: &IntegrationSpec,
    spec: &'static ApiKeySpec,
    mut given: BTreeMap<String, SecretInput>,
) -> Result<(BTreeMap<String, Secret>, BTreeMap<String, String>)> {
    if let Some(unknown) = given.keys().find(|given| !spec.fields.iter().any(|f| &&f.id == given)) {
        let known: Vec<&str> = spec.fields.iter().map(|f| f.id.as_str()).collect();
        return Err(Error::invalid(
            "fields",
            format!(
                "{} has no field “{}”; its fields are {}.",
                integration.name,
                crate::error::printable(unknown, 100),
                known.join(", ")
            ),
        ));
    }
    let (mut secrets, mut plain) = (BTreeMap::new(), BTreeMap::new());
    for field in &spec.fields {
        let id: &'static str = field.id.as_str();
        let value = given.remove(id).map(SecretInput::into_secret);
        let value = value.as_ref().map(|v| v.expose().trim()).unwrap_or_default();
        if value.is_empty() {
            return Err(Error::invalid(
                id,
                format!("Enter the {} of your {} account.", field.label, integration.name),
            ));
        }
        if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::invalid(
                id,
                format!("The {} is one line without spaces; check what you pasted.", field.label),
            ));
        }
        if value.len() > FIELD_LIMIT {
            return Err(Error::invalid(
                id,
                format!(
                    "The {} is longer than any service's ({FIELD_LIMIT} characters at most); check what you pasted.",
                    field.label
                ),
            ));
        }
        if let Some(prefix) = field.prefix.as_deref().filter(|p| !value.starts_with(p)) {
            return Err(Error::invalid(
                id,
                format!(
                    "{} {}s start with “{prefix}”; check that you copied the whole value.",
                    integration.name, field.label
                ),
            ));
        }
        if field.secret {
            secrets.insert(field.id.clone(), Secret::new(value));
        } else {
            plain.insert(field.id.clone(), value.to_owned());
        }
    }
    Ok((secrets, plain))
}

fn field_values<'a>(
    plain: &'a BTreeMap<String, String>,
    secrets: &'a BTreeMap<String, Secret>,
) -> impl Fn(&str) -> Option<String> + Sync + 'a {
    move |field: &str| plain.get(field).cloned().or_else(|| secrets.get(field).map(|s| s.expose().to_owned()))
}
