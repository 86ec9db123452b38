//! Whose client identity signs in to a resource's authorization server, in the order the
//! MCP authorization specification gives: a provider app the person set for that server,
//! else one an organisation supplied for it, else a registration Grantkeeper made there
//! itself (RFC 7591), made when first needed and again when the server forgot it or its
//! redirect port is taken.

use url::Url;

use super::registration::register;
use crate::oauth::CallbackListener;
use crate::provider::{self, supplied_for_server, EndpointOverrides, ProviderRecord};
use crate::store::{ProviderAppRow, RegistrationRow, ResourceRow};
use crate::{Engine, Error, Result, Timestamp};

/// The id prefix of a provider app that stands for a registration.
const REGISTERED: &str = "registration:";

/// The registration `app` stands for, if it stands for one.
pub(crate) fn registration_of(app: &ProviderAppRow) -> Option<&str> {
    app.id.strip_prefix(REGISTERED).filter(|id| !id.is_empty())
}

/// The provider app a registration (or none yet: no client ID) stands for.
fn registration_app(
    provider_id: &str,
    registration: Option<RegistrationRow>,
    created: Timestamp,
) -> ProviderAppRow {
    let (id, client_id, client_auth, client_secret_key, created_at) = match registration {
        Some(r) => (r.id, r.client_id, r.client_auth, r.client_secret_key, r.created_at),
        None => (String::new(), String::new(), crate::catalog::ClientAuth::None, None, created),
    };
    ProviderAppRow {
        id: format!("{REGISTERED}{id}"),
        provider_id: provider_id.to_owned(),
        client_id,
        client_secret_key,
        client_secret_last4: None,
        enabled: true,
        site: None,
        overrides: EndpointOverrides::default(),
        client_auth: Some(client_auth),
        created_at,
        attention: None,
        supplied_from: None,
    }
}

impl Engine {
    /// The provider app a resource's sign-ins use; one with no client ID yet when
    /// nothing is registered (the sign-in registers first).
    pub(crate) fn resource_client(&self, resource: &ResourceRow) -> Result<Option<ProviderAppRow>> {
        if let Some(own) = resource.client_provider_id.as_deref().map(|id| self.store.provider_app(id)) {
            if let Some(app) = own? {
                return Ok(Some(ProviderAppRow { provider_id: resource.provider_id.clone(), ..app }));
            }
        }
        let issuer = self.store.custom_provider(&resource.provider_id)?.and_then(|p| p.issuer);
        if let Some(issuer) = issuer {
            if let Some(app) = supplied_for_server(&self.config.supplied_provider_apps, &issuer)? {
                return Ok(Some(ProviderAppRow { provider_id: resource.provider_id.clone(), ..app }));
            }
        }
        let registration = match &resource.registration_id {
            Some(id) => self.store.registration(id)?,
            None => None,
        };
        Ok(Some(registration_app(&resource.provider_id, registration, resource.created_at)))
    }

    /// `provider` with the registration a credential signed in with, where the resource
    /// has registered anew since (a taken redirect port, or another sign-in at the same
    /// time): refreshing or revoking its tokens as another client would be refused.
    pub(crate) fn with_registration(&self, provider: ProviderRecord, id: &str) -> Result<ProviderRecord> {
        if registration_of(&provider.app) == Some(id) {
            return Ok(provider);
        }
        match self.store.registration(id)? {
            Some(registration) => {
                let app = registration_app(&provider.id, Some(registration), provider.app.created_at);
                Ok(ProviderRecord { app, ..provider })
            }
            // Forgotten (the server no longer knew it): its tokens cannot be renewed.
            None => Ok(provider),
        }
    }

    /// The loopback listener a resource's sign-in answers on, with the provider as it
    /// signs in there: on the registered redirect URI's port, or registered anew.
    pub(crate) async fn resource_sign_in(
        &self,
        provider: ProviderRecord,
    ) -> Result<(ProviderRecord, CallbackListener)> {
        match registration_of(&provider.app).map(|id| self.store.registration(id)).transpose()?.flatten() {
            Some(registration) => {
                let port = Url::parse(&registration.redirect_uri).ok().and_then(|url| url.port());
                // A server may compare the redirect URI exactly, port included.
                if let Ok(listener) = CallbackListener::bind("127.0.0.1", port).await {
                    return Ok((provider, listener));
                }
            }
            None if !provider.app.client_id.is_empty() => {
                return Ok((provider, CallbackListener::bind("127.0.0.1", None).await?));
            }
            None => {}
        }
        let listener = CallbackListener::bind("127.0.0.1", None).await?;
        self.register_for(&provider, listener.redirect_uri()).await?;
        Ok((self.provider_record(&provider.id)?, listener))
    }

    /// Registers Grantkeeper at the resource's authorization server for `redirect_uri`
    /// and points the resource at the registration.
    async fn register_for(&self, provider: &ProviderRecord, redirect_uri: &Url) -> Result<()> {
        let issuer = provider.issuer.clone().unwrap_or_default();
        let issuer_url = provider::provider_url("url", "authorization server", &issuer)?;
        let metadata = provider::discover(&self.http, &issuer_url).await?;
        let Some(registration_url) = metadata.registration_url.as_deref() else {
            return Err(Error::RegistrationRefused {
                server: issuer,
                detail: "it does not let clients register themselves".into(),
            });
        };
        let registration_url = Url::parse(registration_url).expect("checked by discovery");
        let registered = register(&self.http, &issuer, &registration_url, redirect_uri).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let client_secret_key =
            registered.client_secret.as_ref().map(|_| format!("registration/{id}/client-secret"));
        let registration_token_key =
            registered.registration_token.as_ref().map(|_| format!("registration/{id}/registration-token"));
        // Keychain first: a row never names an entry that was not written.
        for (key, secret) in [
            (&client_secret_key, registered.client_secret),
            (&registration_token_key, registered.registration_token),
        ] {
            if let (Some(key), Some(secret)) = (key, secret) {
                self.vault.write(key, secret).await?;
            }
        }
        let row = RegistrationRow {
            id,
            issuer,
            client_id: registered.client_id,
            redirect_uri: redirect_uri.to_string(),
            client_auth: registered.client_auth,
            client_secret_key,
            registration_token_key,
            registration_client_uri: registered.registration_client_uri,
            created_at: Timestamp::now(),
        };
        self.store.insert_registration(&row, &provider.id)?;
        tracing::info!(server = %row.issuer, "registered at the authorization server");
        Ok(())
    }

    /// The server no longer knows the registration `provider` signed in with
    /// (`invalid_client`): forget it, so the next sign-in registers once more. False
    /// when the provider app is not a registration.
    pub(crate) fn forget_registration(&self, provider: &ProviderRecord) -> Result<bool> {
        match registration_of(&provider.app) {
            Some(id) => self.store.delete_registration(id).map(|()| true),
            None => Ok(false),
        }
    }
}
