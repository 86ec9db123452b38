//! Connecting a URL: its metadata and authorization server found and checked, a provider
//! row made (or renewed) for it, and the sign-in started as for any provider.

use std::sync::Arc;

use super::metadata::{discover_resource, FoundResource};
use super::registration::{client_metadata, METADATA_DOCUMENT_REDIRECT_URI};
use crate::api::{ClientIdentity, ConnectOptions, ResourcePlan};
use crate::credential::connect::{PendingFlow, Purpose, SignIn};
use crate::http::host_of;
use crate::provider::{self, check_scopes, provider_url, supplied_for_server, Discovered, Endpoints};
use crate::store::{CustomProviderRow, ProviderAppRow, RegistrationRow, ResourceRow};
use crate::{Engine, Error, Result, Timestamp};

impl Engine {
    /// Starts connecting an MCP server or an API by its URL: finds out who guards it,
    /// identifies Grantkeeper there (registering when it must) and opens the browser.
    /// Nothing is kept when the URL or its servers fail a check.
    #[tracing::instrument(skip(self, options), err(Display))]
    pub async fn connect_url(self: &Arc<Self>, url: &str, options: ConnectOptions) -> Result<PendingFlow> {
        let url = provider_url("url", "URL", url)?;
        if options.device {
            return Err(Error::invalid(
                "device",
                "A URL is connected in this machine's browser; sign-in by code is not offered for it.",
            ));
        }
        let found = discover_resource(&self.http, &url).await?;
        let server = self.authorization_server(&found).await?;
        let scopes = match options.scopes.is_empty() {
            true => found.scopes.clone(),
            false => check_scopes(&options.scopes)?,
        };
        let name = self.connection_name(options.name, &host_of(&url))?;
        let (provider_id, made) = self.keep_resource(&found, server, &scopes)?;
        let provider = self.provider_record(&provider_id)?;
        let purpose = Purpose::New { name, integration: provider_id.clone() };
        let started = self.start_flow(provider, &scopes, None, purpose, SignIn::Browser).await;
        // A URL that could not even start its sign-in (registration refused) leaves
        // nothing behind.
        if started.is_err() && made {
            self.store.delete_provider(&provider_id)?;
        }
        started
    }

    /// What connecting `url` will do: the server that signs in, the scopes asked for and
    /// how Grantkeeper will identify itself there. Changes nothing.
    #[tracing::instrument(skip(self, scopes), err(Display))]
    pub async fn plan_url(&self, url: &str, scopes: &[String]) -> Result<ResourcePlan> {
        let url = provider_url("url", "URL", url)?;
        let found = discover_resource(&self.http, &url).await?;
        let server = self.authorization_server(&found).await?;
        let scopes = match scopes.is_empty() {
            true => found.scopes.clone(),
            false => check_scopes(scopes)?,
        };
        let identity = match self.client_for(&server.issuer)? {
            ClientFor::Provider(id) => {
                let record = self.provider_record(&id)?;
                ClientIdentity::ProviderApp { provider: record.name, client_id: record.app.client_id }
            }
            ClientFor::Supplied(app) => ClientIdentity::Supplied {
                client_id: app.client_id,
                file: app.supplied_from.map(|file| file.display().to_string()).unwrap_or_default(),
            },
            ClientFor::Registration(registration)
                if self.metadata_document_for(&server).as_ref() == Some(&registration.client_id) =>
            {
                ClientIdentity::MetadataDocument { url: registration.client_id }
            }
            ClientFor::Registration(registration) => ClientIdentity::Registered {
                client_id: registration.client_id,
                registered_at: registration.created_at,
            },
            ClientFor::Nothing if self.metadata_document_for(&server).is_some() => {
                ClientIdentity::MetadataDocument {
                    url: self.metadata_document_for(&server).unwrap_or_default(),
                }
            }
            ClientFor::Nothing if server.registration_url.is_some() => {
                // The port is the listener's, chosen when the sign-in starts.
                let metadata = client_metadata("http://127.0.0.1:<port>/callback");
                ClientIdentity::WillRegister {
                    metadata: serde_json::to_string_pretty(&metadata).expect("JSON serializes"),
                }
            }
            ClientFor::Nothing => ClientIdentity::NoneAvailable,
        };
        Ok(ResourcePlan {
            resource: found.url.to_string(),
            authorization_server: server.issuer,
            scopes,
            identity,
        })
    }

    /// The client identity already at hand for an authorization server: the person's
    /// own provider for it, else one an organisation supplied, else Grantkeeper's newest
    /// registration there.
    fn client_for(&self, issuer: &str) -> Result<ClientFor> {
        let same = |other: &Option<String>| {
            other.as_deref().is_some_and(|i| i.trim_end_matches('/') == issuer.trim_end_matches('/'))
        };
        let own =
            self.store.custom_providers()?.into_iter().find(|p| p.resource.is_none() && same(&p.issuer));
        if let Some(provider) = own {
            return Ok(ClientFor::Provider(provider.id));
        }
        if let Some(app) = supplied_for_server(&self.config.supplied_provider_apps, issuer)? {
            return Ok(ClientFor::Supplied(app));
        }
        Ok(self.store.registration_at(issuer)?.map_or(ClientFor::Nothing, ClientFor::Registration))
    }

    /// This distribution's client ID metadata document, where the server takes one.
    fn metadata_document_for(&self, server: &Discovered) -> Option<String> {
        let document = self.config.client_metadata_document.as_ref()?;
        server.client_id_metadata_documents.then(|| document.to_string())
    }

    /// A client ID metadata document is a registration made with no request: its URL is
    /// the client ID, for any loopback port. Kept like one, so it is reused and dropped
    /// alike; None where the server takes no such document.
    fn metadata_document_registration(&self, server: &Discovered) -> Result<Option<String>> {
        let Some(document) = self.metadata_document_for(server) else { return Ok(None) };
        let registration = RegistrationRow {
            id: uuid::Uuid::new_v4().to_string(),
            issuer: server.issuer.clone(),
            client_id: document,
            redirect_uri: METADATA_DOCUMENT_REDIRECT_URI.into(),
            client_auth: crate::catalog::ClientAuth::None,
            client_secret_key: None,
            registration_token_key: None,
            registration_client_uri: None,
            created_at: Timestamp::now(),
        };
        self.store.add_registration(&registration)?;
        Ok(Some(registration.id))
    }

    /// The resource's authorization server, from its metadata, as the MCP specification
    /// requires it: naming itself as listed, and offering PKCE with S256.
    async fn authorization_server(&self, found: &FoundResource) -> Result<Discovered> {
        let unusable = |reason: String| Error::ResourceUnusable { url: found.url.to_string(), reason };
        let server = provider::discover(&self.http, &found.authorization_server).await.map_err(|e| match e {
            Error::DiscoveryFailed { url, reason } => {
                unusable(format!("the metadata of its authorization server ({url}) could not be read: {reason}"))
            }
            Error::IssuerMismatch { url, expected, found } => unusable(format!(
                "its authorization server's metadata ({url}) names the issuer “{found}”, not “{expected}”, so it was not used"
            )),
            other => other,
        })?;
        match &server.pkce_methods {
            Some(methods) if methods.iter().any(|m| m == "S256") => Ok(server),
            _ => Err(unusable(format!(
                "its authorization server ({}) does not say it supports PKCE with S256, which Grantkeeper requires to sign in safely",
                server.issuer
            ))),
        }
    }

    /// Keeps the resource and its authorization server (replacing what an earlier
    /// discovery of the same URL found, here or in another process meanwhile); returns
    /// the provider id, and whether this call made it. The client identity: the person's
    /// own provider for that server, else a registration there.
    fn keep_resource(
        &self,
        found: &FoundResource,
        server: Discovered,
        scopes: &[String],
    ) -> Result<(String, bool)> {
        let existing = self.store.resource_at(found.url.as_str())?;
        let is_new = existing.is_none();
        let (client_provider_id, registration_id) = match self.client_for(&server.issuer)? {
            ClientFor::Provider(id) => (Some(id), None),
            // Looked up again at each use, so the file stays the one place it is set.
            ClientFor::Supplied(_) => (None, None),
            ClientFor::Registration(registration) => (None, Some(registration.id)),
            ClientFor::Nothing => (None, self.metadata_document_registration(&server)?),
        };
        let at = Timestamp::now();
        let provider = CustomProviderRow {
            id: existing.as_ref().map_or_else(|| uuid::Uuid::new_v4().to_string(), |r| r.provider_id.clone()),
            name: found.url.to_string(),
            issuer: Some(server.issuer),
            // Only the endpoints that serve the resource's tokens: no userinfo or ID tokens.
            endpoints: Endpoints {
                authorize_url: server.endpoints.authorize_url,
                token_url: server.endpoints.token_url,
                revocation_url: server.endpoints.revocation_url,
                ..Endpoints::default()
            },
            scopes: scopes.to_vec(),
            created_at: at,
            issuer_in_responses: server.issuer_in_responses,
            id_token_algorithms: Vec::new(),
            resource: Some(found.resource.clone()),
        };
        let resource = ResourceRow {
            provider_id: provider.id.clone(),
            url: found.url.to_string(),
            identifier: (found.resource != found.url.as_str()).then(|| found.resource.clone()),
            metadata_url: found.metadata_url.to_string(),
            registration_id,
            client_provider_id,
            needed_scopes: existing.map(|r| r.needed_scopes).unwrap_or_default(),
            created_at: at,
        };
        let kept_under = self.store.upsert_resource(&provider, &resource)?;
        Ok((kept_under.clone(), is_new && kept_under == provider.id))
    }
}

/// A client identity already at hand for an authorization server.
enum ClientFor {
    /// The provider app of the person's own provider (its id) for that server.
    Provider(String),
    /// The app an organisation supplied for that server.
    Supplied(ProviderAppRow),
    Registration(RegistrationRow),
    Nothing,
}
