//! Provider apps: the person's client registrations, on built-in and custom providers.

use crate::api::{NewProvider, Provider, ProviderAppInput, Removal};
use crate::catalog::{Catalog, ClientAuth, ClientSecretRule, ProviderSpec};
use crate::provider::{
    self, catalog_spec, check_client_id, check_client_secret, check_site, supplied_apps, EndpointField,
    EndpointOverrides, Endpoints, EndpointsInput, ProviderRecord, ENDPOINT_FIELDS,
};
use crate::store::{CustomProviderRow, Inserted, ProviderAppRow};
use crate::vault;
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error, Result, Secret};

/// What a new custom provider's endpoints input came to.
struct FoundEndpoints {
    issuer: Option<String>,
    endpoints: Endpoints,
    issuer_in_responses: bool,
    id_token_algorithms: Vec<String>,
    /// The client authentication its metadata lists (Basic when it says nothing).
    client_auth: ClientAuth,
}

impl Engine {
    /// Every provider app the person has set up, by provider name.
    pub fn providers(&self) -> Result<Vec<Provider>> {
        let own = self.store.provider_apps()?;
        let supplied = supplied_apps(&self.config.supplied_provider_apps)?
            .into_values()
            .filter(|app| !own.iter().any(|mine| mine.provider_id == app.provider_id));
        let mut views = Vec::new();
        for app in own.iter().cloned().chain(supplied) {
            match self.resolve(app) {
                Ok(record) => views.push(self.view_of(&record)?),
                Err(error) => tracing::warn!(%error, "skipping a provider app"),
            }
        }
        views.sort_by_key(|p| p.name.to_lowercase());
        Ok(views)
    }

    /// The provider app as the window and the CLI show it, with its connections.
    fn view_of(&self, record: &ProviderRecord) -> Result<Provider> {
        let connections = self.connection_count_of(&self.served_by(&record.id)?)?;
        Ok(record.view(connections, self.on_previous_addresses(record)?))
    }

    /// A provider with its provider app, ready for a flow or a refresh.
    pub(crate) fn provider_record(&self, provider_id: &str) -> Result<ProviderRecord> {
        if let Some(app) = self.provider_app(provider_id)? {
            return self.resolve(app);
        }
        let Some(spec) = catalog_spec(provider_id) else {
            return Err(Error::NotFound { what: "provider", key: provider_id.to_owned() });
        };
        let lender = spec.app_from.as_deref().unwrap_or(provider_id);
        match self.provider_app(lender)?.filter(|_| lender != provider_id) {
            Some(app) => Ok(ProviderRecord::builtin(provider_id, spec, borrowed(app))),
            None => Err(Error::ProviderAppMissing {
                provider: catalog_spec(lender).map_or(&spec.name, |lender| &lender.name).clone(),
                provider_id: lender.to_owned(),
            }),
        }
    }

    /// The providers whose connections sign in with `provider_id`'s provider app: itself,
    /// and those that borrow it (`app_from`) having none of their own.
    pub(crate) fn served_by(&self, provider_id: &str) -> Result<Vec<String>> {
        let mut served = vec![provider_id.to_owned()];
        for (id, spec) in Catalog::builtin().providers() {
            if spec.app_from.as_deref() == Some(provider_id) && self.provider_app(id)?.is_none() {
                served.push(id.to_owned());
            }
        }
        Ok(served)
    }

    fn connection_count_of(&self, providers: &[String]) -> Result<usize> {
        providers.iter().try_fold(0, |count, id| Ok(count + self.store.connection_count_for_provider(id)?))
    }

    /// The person's own provider app for a provider, else one an organisation supplies.
    fn provider_app(&self, provider_id: &str) -> Result<Option<ProviderAppRow>> {
        if let Some(own) = self.store.provider_app(provider_id)? {
            return Ok(Some(own));
        }
        if let Some(resource) = self.store.resource(provider_id)? {
            return self.resource_client(&resource);
        }
        Ok(supplied_apps(&self.config.supplied_provider_apps)?.remove(provider_id))
    }

    fn resolve(&self, app: ProviderAppRow) -> Result<ProviderRecord> {
        if let Some(spec) = catalog_spec(&app.provider_id) {
            return Ok(ProviderRecord::builtin(&app.provider_id.clone(), spec, app));
        }
        let custom = self
            .store
            .custom_provider(&app.provider_id)?
            .ok_or_else(|| Error::NotFound { what: "provider", key: app.provider_id.clone() })?;
        Ok(ProviderRecord::custom(custom, app))
    }

    /// The id of a provider named by catalog id or name, or custom provider id or name.
    pub(crate) fn provider_id_for(&self, key: &str) -> Result<String> {
        let key = key.trim();
        if let Some((id, _)) = Catalog::builtin()
            .providers()
            .find(|(id, spec)| *id == key || spec.name.eq_ignore_ascii_case(key))
        {
            return Ok(id.to_owned());
        }
        match self.store.custom_provider(key)? {
            Some(custom) => Ok(custom.id),
            None => Err(Error::NotFound { what: "provider", key: key.to_owned() }),
        }
    }

    /// Adds a custom provider and its provider app. Nothing is saved unless every check
    /// passes; the client secret goes to the keychain before the row that names it.
    #[tracing::instrument(skip_all, fields(name = %input.name), err(Display))]
    pub async fn add_provider(&self, input: NewProvider) -> Result<Provider> {
        let checked = provider::check(&input)?;
        let in_catalog = Catalog::builtin().providers().find(|(id, spec)| {
            spec.name.eq_ignore_ascii_case(&checked.name) || id.eq_ignore_ascii_case(&checked.name)
        });
        if let Some((id, spec)) = in_catalog {
            return Err(Error::AlreadyExists(format!(
                "“{}” names the built-in provider {} (`{id}`). Choose another name.",
                checked.name, spec.name
            )));
        }
        if self.store.custom_provider(&checked.name)?.is_some() {
            return Err(provider_name_taken(&checked.name));
        }
        let found = self.found_endpoints(checked.endpoints).await?;
        let client_secret = check_client_secret(input.client_secret)?;
        let at = Timestamp::now();
        let custom = CustomProviderRow {
            id: uuid::Uuid::new_v4().to_string(),
            name: checked.name,
            issuer: found.issuer,
            endpoints: found.endpoints,
            scopes: checked.scopes,
            created_at: at,
            issuer_in_responses: found.issuer_in_responses,
            id_token_algorithms: found.id_token_algorithms,
            resource: None,
        };
        let app_id = uuid::Uuid::new_v4().to_string();
        let app = ProviderAppRow {
            provider_id: custom.id.clone(),
            client_id: checked.client_id,
            client_secret_key: client_secret.as_ref().map(|_| vault::new_client_secret_key(&app_id)),
            client_secret_last4: client_secret.as_ref().and_then(Secret::last4),
            enabled: true,
            site: None,
            overrides: EndpointOverrides::default(),
            client_auth: Some(input.client_auth.unwrap_or(found.client_auth)),
            created_at: at,
            attention: None,
            supplied_from: None,
            id: app_id,
        };
        self.with_client_secret(&app, client_secret, || {
            match self.store.insert_custom_provider(&custom, &app)? {
                Inserted::Added => Ok(()),
                Inserted::NameTaken => Err(provider_name_taken(&custom.name)),
                Inserted::IssuerTaken(holder) => {
                    Err(issuer_taken(&holder, custom.issuer.as_deref().unwrap_or_default()))
                }
            }
        })
        .await?;
        self.events.publish(EngineEvent::ProvidersChanged);
        Ok(ProviderRecord::custom(custom, app).view(0, Vec::new()))
    }

    /// A new custom provider's endpoints: discovered from its issuer, or as entered.
    async fn found_endpoints(&self, input: EndpointsInput) -> Result<FoundEndpoints> {
        match input {
            EndpointsInput::Issuer(issuer) => {
                let discovered = provider::discover(&self.http, &issuer).await?;
                self.refuse_duplicate_issuer(&discovered.issuer)?;
                Ok(FoundEndpoints {
                    client_auth: ClientAuth::chosen_from(&discovered.client_auth_methods),
                    issuer: Some(discovered.issuer),
                    endpoints: discovered.endpoints,
                    issuer_in_responses: discovered.issuer_in_responses,
                    id_token_algorithms: discovered.id_token_algorithms,
                })
            }
            EndpointsInput::Manual { authorize_url, token_url } => Ok(FoundEndpoints {
                issuer: None,
                endpoints: Endpoints {
                    authorize_url: authorize_url.into(),
                    token_url: token_url.into(),
                    ..Endpoints::default()
                },
                issuer_in_responses: false,
                id_token_algorithms: Vec::new(),
                client_auth: ClientAuth::Basic,
            }),
        }
    }

    /// An issuer another provider has is refused; the store checks again as the provider
    /// is added, for one added elsewhere meanwhile.
    fn refuse_duplicate_issuer(&self, issuer: &str) -> Result<()> {
        let same = |other: &str| other.trim_end_matches('/') == issuer.trim_end_matches('/');
        let catalog =
            Catalog::builtin().providers().find(|(_, spec)| spec.issuer.as_deref().is_some_and(same));
        let custom = self
            .store
            .custom_providers()?
            .into_iter()
            .find(|p| p.resource.is_none() && p.issuer.as_deref().is_some_and(same));
        match (catalog.map(|(_, spec)| spec.name.clone()), custom.map(|p| p.name)) {
            (Some(name), _) | (None, Some(name)) => Err(issuer_taken(&name, issuer)),
            (None, None) => Ok(()),
        }
    }

    /// Creates or changes the provider app of a provider (`grantkeeper providers set`,
    /// the Provider apps form). Checks everything before writing; a new client secret
    /// goes to a new keychain entry, and the old entry is removed only after the row
    /// names the new one.
    #[tracing::instrument(skip(self, input), err(Display))]
    pub async fn set_provider_app(&self, provider_key: &str, input: ProviderAppInput) -> Result<Provider> {
        let provider_id = self.provider_id_for(provider_key)?;
        // A supplied provider app is the starting point of the person's own.
        let existing = self.provider_app(&provider_id)?.map(|app| match app.supplied_from {
            Some(_) => ProviderAppRow { id: uuid::Uuid::new_v4().to_string(), supplied_from: None, ..app },
            None => app,
        });
        let spec = catalog_spec(&provider_id);
        let name = match spec {
            Some(spec) => spec.name.clone(),
            None => self.provider_record(&provider_id)?.name,
        };
        let client_id = match (input.client_id.as_deref().map(str::trim), &existing) {
            (Some(id), _) if !id.is_empty() => check_client_id(id)?,
            (_, Some(existing)) => existing.client_id.clone(),
            _ => {
                return Err(Error::invalid(
                    "client_id",
                    format!(
                    "{name} has no provider app yet: enter the client ID of the app you registered there."
                ),
                ))
            }
        };
        let site = site_of(input.site.as_deref(), existing.as_ref(), spec, &name)?;
        let kept = existing.as_ref().map(|a| a.overrides.clone()).unwrap_or_default();
        let overrides = overrides_of(&input, kept)?;
        let new_secret = check_client_secret(input.client_secret)?;
        let has_secret =
            new_secret.is_some() || existing.as_ref().is_some_and(|a| a.client_secret_key.is_some());
        if spec.is_some_and(|s| s.client_secret == ClientSecretRule::Required) && !has_secret {
            return Err(Error::invalid(
                "client_secret",
                format!(
                    "{name} needs the client secret of your provider app too; it is kept in the keychain."
                ),
            ));
        }
        let enabled = input.enabled;
        let mut app =
            changed_app(existing.as_ref(), &provider_id, client_id, &new_secret, site, overrides, enabled);
        app.client_auth = input.client_auth.or(app.client_auth);
        self.save_provider_app(app, new_secret, existing.and_then(|a| a.client_secret_key)).await
    }

    /// Writes a checked provider app: a new client secret to its new keychain entry
    /// first, the row second, and only then the old secret's entry goes.
    async fn save_provider_app(
        &self,
        app: ProviderAppRow,
        new_secret: Option<Secret>,
        old_secret_key: Option<String>,
    ) -> Result<Provider> {
        let replaced = new_secret.as_ref().and(old_secret_key);
        self.with_client_secret(&app, new_secret, || self.store.save_provider_app(&app, Timestamp::now()))
            .await?;
        if let Some(old) = replaced {
            self.vault.delete(&old).await?;
        }
        self.events.publish(EngineEvent::ProvidersChanged);
        self.view_of(&self.resolve(app)?)
    }

    /// Writes a provider app's rows with `write_rows`, a new client secret to the
    /// keychain entry the app names first; a failed write deletes that entry again.
    async fn with_client_secret(
        &self,
        app: &ProviderAppRow,
        new_secret: Option<Secret>,
        write_rows: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let new_key = new_secret.as_ref().and(app.client_secret_key.as_ref());
        if let (Some(key), Some(secret)) = (new_key, new_secret.as_ref()) {
            self.vault.write(key, secret.clone()).await?;
        }
        if let Err(error) = write_rows() {
            if let Some(key) = new_key {
                let _ = self.vault.delete(key).await;
            }
            return Err(error);
        }
        Ok(())
    }

    /// The provider app's client secret, when it has one. A secret that should be there
    /// but is not is an error: sending the request without it would only be refused.
    pub(crate) async fn client_secret(&self, provider: &ProviderRecord) -> Result<Option<Secret>> {
        let Some(key) = &provider.app.client_secret_key else { return Ok(provider.empty_secret()) };
        let secret = self.vault.read(key).await?.ok_or_else(|| {
            Error::KeychainUnavailable(format!(
                "the client secret of {} is missing from the keychain. Enter it again under Provider apps.",
                provider.name
            ))
        })?;
        Ok(Some(secret))
    }

    /// Removes a provider app (and a custom provider with it). Refused while
    /// connections use it, unless `with_connections` says to remove them too. Returns
    /// the provider's name and how the removal of each connection went.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn remove_provider(&self, key: &str, with_connections: bool) -> Result<(String, Vec<Removal>)> {
        let provider_id = self.provider_id_for(key)?;
        let provider = self.provider_record(&provider_id).map_err(|error| match error {
            Error::ProviderAppMissing { provider, .. } => {
                Error::NotFound { what: "provider app", key: provider }
            }
            other => other,
        })?;
        if let Some(file) = &provider.app.supplied_from {
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "The provider app for {} is provided by your organisation ({}); it cannot be removed here.",
                    provider.name,
                    file.display()
                ),
            });
        }
        if provider.app.provider_id != provider_id {
            let lender = catalog_spec(&provider.app.provider_id).map_or("another provider", |l| &l.name);
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "{} signs in with {lender}'s provider app and has none of its own to remove. Remove its connections instead, or {lender}'s provider app with them.",
                    provider.name
                ),
            });
        }
        let served = self.served_by(&provider_id)?;
        let in_use = self.connection_count_of(&served)?;
        if in_use > 0 && !with_connections {
            return Err(Error::InvalidInput {
                field: None,
                message: format!(
                    "{} still has {in_use} connection(s). Remove them first, or confirm removing them with the provider app (`--with-connections`).",
                    provider.name
                ),
            });
        }
        // Each connection goes the usual way, so its grant is revoked at the provider
        // while the provider app can still authenticate the request.
        let mut removals = Vec::new();
        for connection in self.store.connections()?.into_iter().filter(|c| served.contains(&c.provider_id)) {
            removals.push(self.remove_connection(&connection.id).await?);
        }
        let token_keys = self.store.delete_provider(&provider_id)?;
        for key in token_keys.iter().chain(&provider.app.client_secret_key) {
            self.vault.delete(key).await?;
        }
        self.events.publish(EngineEvent::ProvidersChanged);
        if in_use > 0 {
            self.events.publish(EngineEvent::ConnectionsChanged);
        }
        Ok((provider.name, removals))
    }
}

/// Another provider's app as a borrower signs in with it: the same registration and
/// site, and the sign-in endpoints set by hand, but not the identity or revocation
/// endpoints, which belong to the lender's service. The row stays the lender's, so
/// what the provider says of the app (a rejected secret) is recorded there.
fn borrowed(app: ProviderAppRow) -> ProviderAppRow {
    let overrides = EndpointOverrides { userinfo_url: None, revocation_url: None, ..app.overrides };
    ProviderAppRow { overrides, ..app }
}

/// The provider app as changed: what was given, else what it had.
fn changed_app(
    existing: Option<&ProviderAppRow>,
    provider_id: &str,
    client_id: String,
    new_secret: &Option<Secret>,
    site: Option<String>,
    overrides: EndpointOverrides,
    enabled: Option<bool>,
) -> ProviderAppRow {
    let id = existing.map_or_else(|| uuid::Uuid::new_v4().to_string(), |a| a.id.clone());
    ProviderAppRow {
        provider_id: provider_id.to_owned(),
        client_id,
        client_secret_key: match new_secret {
            Some(_) => Some(vault::new_client_secret_key(&id)),
            None => existing.and_then(|a| a.client_secret_key.clone()),
        },
        client_secret_last4: match new_secret {
            Some(secret) => secret.last4(),
            None => existing.and_then(|a| a.client_secret_last4.clone()),
        },
        enabled: enabled.or(existing.map(|a| a.enabled)).unwrap_or(true),
        site,
        overrides,
        client_auth: existing.and_then(|a| a.client_auth),
        created_at: existing.map_or(Timestamp::now(), |a| a.created_at),
        // Saving it again is the fix being tried.
        attention: None,
        supplied_from: None,
        id,
    }
}

/// The provider app's site (GitHub Enterprise URL, GitLab base URL, Microsoft tenant):
/// as given (blank: the provider's default), else as it was.
fn site_of(
    given: Option<&str>,
    existing: Option<&ProviderAppRow>,
    spec: Option<&ProviderSpec>,
    name: &str,
) -> Result<Option<String>> {
    match given.map(str::trim) {
        None => Ok(existing.and_then(|a| a.site.clone())),
        Some("") => Ok(None),
        Some(site) => {
            let Some(site_spec) = spec.and_then(|s| s.site.as_ref()) else {
                return Err(Error::invalid(
                    "site",
                    format!("{name} has no self-hosted or regional variants."),
                ));
            };
            Ok(Some(check_site(site_spec.kind, site)?)
                .filter(|s| s.trim_end_matches('/') != site_spec.default))
        }
    }
}

/// The endpoints set by hand: each given one replaces the kept one.
fn overrides_of(input: &ProviderAppInput, mut kept: EndpointOverrides) -> Result<EndpointOverrides> {
    let mut given = input.endpoints.clone();
    for (field, (given, kept)) in
        ENDPOINT_FIELDS.into_iter().zip(given.values_mut().into_iter().zip(kept.values_mut()))
    {
        *kept = endpoint_override(given.take(), kept.take(), field)?;
    }
    Ok(kept)
}

fn provider_name_taken(name: &str) -> Error {
    Error::AlreadyExists(format!("A provider named “{name}” already exists. Choose another name."))
}

/// Two providers with one issuer would be one authorization server under two names.
fn issuer_taken(holder: &str, issuer: &str) -> Error {
    Error::invalid(
        "issuer",
        format!("{holder} already uses the issuer {issuer}. Use that provider instead of adding it twice."),
    )
}

/// A given endpoint replaces the kept one; a blank one returns to the provider's own.
fn endpoint_override(
    given: Option<String>,
    kept: Option<String>,
    field: EndpointField,
) -> Result<Option<String>> {
    match given.as_deref().map(str::trim) {
        None => Ok(kept),
        Some("") => Ok(None),
        Some(url) => Ok(Some((field.check)(field.name, field.label, url)?.to_string())),
    }
}
