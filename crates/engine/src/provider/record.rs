//! A provider resolved for use: its endpoints (site and overrides applied), its
//! quirks from the catalog, and the person's provider app.

use serde::{Deserialize, Serialize};

use super::Endpoints;
use crate::api::{AppSetup, Provider};
use crate::catalog::{Catalog, ClientAuth, ClientSecretRule, Pkce, ProviderSpec, RefreshTokens, SiteKind};
use crate::oauth::ExpectedIssuer;
use crate::store::{CustomProviderRow, ProviderAppRow};
use crate::Timestamp;

/// Where a credential was signed in: its provider app's site and the endpoints in use
/// then. Refresh, revocation, checks and git use these, so an edited provider app sends
/// no token or client secret to another host before the person reconnects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInAddresses {
    pub site: Option<String>,
    pub endpoints: Endpoints,
    /// The registration it signed in with, at a resource's authorization server: its
    /// tokens are that client's, whichever registration the resource uses now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ProviderRecord {
    pub id: String,
    pub name: String,
    pub issuer: Option<String>,
    /// In use: the provider's own, with the site and the endpoints set by hand applied.
    /// The JWKS URL is None where its ID tokens are not checked (no OpenID) or, for a
    /// custom provider added before these were kept, not known yet.
    pub endpoints: Endpoints,
    /// The `iss` values its ID tokens may carry; `{tid}` is the token's own tenant.
    /// Empty where ID tokens are not checked.
    pub id_token_issuers: Vec<String>,
    /// A custom provider's scopes (it has one integration: itself).
    pub scopes: Vec<String>,
    /// Its authorization responses must carry `iss` (RFC 9207): its configuration says
    /// it always sends one.
    pub issuer_in_responses: bool,
    /// What it signs ID tokens with, where its configuration says; else RS256.
    pub id_token_algorithms: Vec<String>,
    /// The resource its tokens are for (RFC 8707), for the authorization server of a
    /// URL connected directly; sent with every authorization and token request.
    pub resource: Option<String>,
    pub app: ProviderAppRow,
    /// The catalog entry; None for a custom provider, which follows the standards.
    pub spec: Option<&'static ProviderSpec>,
    pub created_at: Timestamp,
}

impl ProviderRecord {
    pub fn custom(provider: CustomProviderRow, app: ProviderAppRow) -> Self {
        ProviderRecord {
            endpoints: provider.endpoints.overridden_by(&app.overrides),
            // A resource's tokens are for the resource, not for signing in: no ID tokens.
            id_token_issuers: provider
                .issuer
                .iter()
                .filter(|_| provider.resource.is_none())
                .cloned()
                .collect(),
            id: provider.id,
            name: provider.name,
            issuer: provider.issuer,
            scopes: provider.scopes,
            issuer_in_responses: provider.issuer_in_responses,
            id_token_algorithms: provider.id_token_algorithms,
            resource: provider.resource,
            spec: None,
            created_at: provider.created_at,
            app,
        }
    }

    pub fn builtin(id: &str, spec: &'static ProviderSpec, app: ProviderAppRow) -> Self {
        ProviderRecord {
            id: id.to_owned(),
            name: spec.name.clone(),
            issuer: site_issuer(spec, app.site.as_deref()),
            endpoints: catalog_endpoints(spec, &app).overridden_by(&app.overrides),
            id_token_issuers: id_token_issuers(spec, app.site.as_deref()),
            scopes: Vec::new(),
            issuer_in_responses: false,
            id_token_algorithms: Vec::new(),
            resource: None,
            spec: Some(spec),
            created_at: app.created_at,
            app,
        }
    }

    /// The addresses a sign-in with this provider app uses today.
    pub fn addresses(&self) -> SignedInAddresses {
        SignedInAddresses {
            site: self.app.site.clone(),
            endpoints: self.endpoints.clone(),
            registration: crate::resource::registration_of(&self.app).map(str::to_owned),
        }
    }

    /// The provider as a credential signed in at `addresses` uses it: that site (and
    /// the issuers that follow from it) and those endpoints.
    pub fn signed_in_at(self, addresses: &SignedInAddresses) -> ProviderRecord {
        let mut record = match self.spec {
            Some(spec) if self.app.site != addresses.site => {
                let app = ProviderAppRow { site: addresses.site.clone(), ..self.app };
                ProviderRecord::builtin(&self.id, spec, app)
            }
            _ => self,
        };
        record.endpoints = addresses.endpoints.clone();
        record
    }

    /// What to check of the `iss` in its authorization responses (RFC 9207).
    pub fn expected_issuer(&self) -> ExpectedIssuer<'_> {
        ExpectedIssuer { issuer: self.issuer.as_deref(), required: self.issuer_in_responses }
    }

    /// Whether its ID tokens are checked: an OpenID provider whose issuer is known.
    pub fn checks_id_tokens(&self) -> bool {
        !self.id_token_issuers.is_empty()
    }

    pub fn pkce(&self) -> Pkce {
        self.spec.map_or(Pkce::S256, |s| s.pkce)
    }

    /// As the provider app says, else as the provider does (HTTP Basic, RFC 6749
    /// §2.3.1's must, for a custom provider).
    pub fn client_auth(&self) -> ClientAuth {
        self.app.client_auth.unwrap_or_else(|| self.spec.map_or(ClientAuth::Basic, |s| s.client_auth))
    }

    pub fn refresh_tokens(&self) -> RefreshTokens {
        self.spec.map_or(RefreshTokens::Reusable, |s| s.refresh_tokens)
    }

    /// How long a sign-in lasts at most, where the catalog documents a fixed limit.
    pub fn sign_in_lifetime(&self) -> Option<std::time::Duration> {
        let days = self.spec?.sign_in_lasts_days?;
        Some(std::time::Duration::from_secs(u64::from(days) * 24 * 60 * 60))
    }

    pub fn incremental_authorization(&self) -> bool {
        self.spec.is_some_and(|s| s.incremental_authorization)
    }

    pub fn redirect_uri(&self) -> String {
        self.spec.map_or_else(|| "http://127.0.0.1/callback".to_owned(), ProviderSpec::redirect_uri)
    }

    /// Scopes every flow at this provider asks for (to learn the account, for a
    /// refresh token), as the provider spells them.
    pub fn base_scopes(&self) -> Vec<String> {
        self.spec
            .map(|s| {
                s.base_scopes.iter().filter_map(|short| s.scope_value(short)).map(String::from).collect()
            })
            .unwrap_or_default()
    }

    /// The RFC 6749 meaning of a provider's error code.
    pub fn standard_error<'a>(&'a self, code: &'a str) -> &'a str {
        self.spec.and_then(|s| s.error_codes.get(code)).map_or(code, String::as_str)
    }

    /// The HTTP client for requests to this provider: with the User-Agent it asks for,
    /// where the catalog names one (Reddit).
    pub fn http(&self, http: &crate::http::HttpClient) -> crate::http::HttpClient {
        let agent = self.spec.and_then(|s| s.user_agent.as_ref()).map(|template| {
            template
                .replace("{version}", env!("CARGO_PKG_VERSION"))
                .replace("{client_id}", &self.app.client_id)
        });
        http.with_user_agent(agent.as_deref())
    }

    /// The empty secret a provider's public clients authenticate with (HTTP Basic, an
    /// empty password: Reddit's installed apps), where the provider app has no secret.
    pub fn empty_secret(&self) -> Option<crate::Secret> {
        let empty = self.spec.is_some_and(|s| s.client_secret == ClientSecretRule::Empty);
        (empty && self.app.client_secret_key.is_none()).then(|| crate::Secret::new(String::new()))
    }

    /// The provider's site as the person set it, else the catalog's default.
    pub fn site(&self) -> Option<String> {
        let default = self.spec.and_then(|s| s.site.as_ref()).map(|site| site.default.clone());
        self.app.site.clone().or(default)
    }

    pub fn view(&self, connections: usize, on_previous_addresses: Vec<String>) -> Provider {
        let app_setup = self.spec.map_or_else(
            || AppSetup { redirect_uri: Some(self.redirect_uri()), ..AppSetup::default() },
            ProviderSpec::app_setup,
        );
        Provider {
            id: self.id.clone(),
            name: self.name.clone(),
            builtin: self.spec.is_some(),
            issuer: self.issuer.clone(),
            endpoints: self.endpoints.clone(),
            scopes: self.scopes.clone(),
            client_id: self.app.client_id.clone(),
            client_secret_set: self.app.client_secret_key.is_some(),
            client_auth: self.client_auth(),
            client_secret_last4: self.app.client_secret_last4.clone(),
            enabled: self.app.enabled,
            supplied_from: self.app.supplied_from.as_ref().map(|file| file.display().to_string()),
            site: self.site(),
            overridden: self.app.overrides.names(),
            app_setup,
            docs_url: self.spec.map(|s| s.docs_url.clone()),
            sources: self.spec.map(|s| s.sources.clone()),
            connections,
            on_previous_addresses,
            attention: self.app.attention.clone(),
            created_at: self.created_at,
        }
    }
}

/// A catalog provider's own endpoints at the provider app's site: a self-hosted or
/// regional site has its own URLs where the catalog names them; `{site}` and
/// `{client_id}` are filled in.
fn catalog_endpoints(spec: &ProviderSpec, app: &ProviderAppRow) -> Endpoints {
    let site = spec.site.as_ref();
    let custom_site = app.site.as_deref().filter(|s| site.is_some_and(|site| site.default != *s));
    let site_value = custom_site.or(site.map(|s| s.default.as_str())).unwrap_or_default();
    let endpoint = |name: &str, own: Option<&String>| -> Option<String> {
        let template = match (custom_site, site) {
            (Some(_), Some(site)) => site.urls.get(name).or(own),
            _ => own,
        }?;
        Some(
            template
                .replace("{site}", site_value.trim_end_matches('/'))
                .replace("{client_id}", &app.client_id),
        )
    };
    Endpoints {
        authorize_url: endpoint("authorize_url", Some(&spec.authorize_url)).expect("the catalog names one"),
        token_url: endpoint("token_url", Some(&spec.token_url)).expect("the catalog names one"),
        userinfo_url: endpoint("userinfo_url", spec.userinfo_url.as_ref()),
        revocation_url: endpoint("revocation_url", spec.revocation_url.as_ref()),
        device_authorization_url: endpoint(
            "device_authorization_url",
            spec.device_authorization_url.as_ref(),
        ),
        jwks_url: endpoint("jwks_url", spec.id_token.as_ref().map(|t| &t.jwks_url)),
    }
}

/// The issuer to expect in authorization responses (RFC 9207), at the provider's own
/// site only: what a self-hosted server (GitHub Enterprise) or a tenant sends is not
/// documented, so none is expected there.
fn site_issuer(spec: &ProviderSpec, site: Option<&str>) -> Option<String> {
    site.is_none().then(|| spec.issuer.clone()).flatten()
}

/// The issuers a catalog provider's ID tokens may name. A tenant site given by its ID
/// (a UUID) pins `{tid}` to that tenant, and `consumers` to the tenant of personal
/// accounts; `common`, `organizations` or a domain leave it to the token (its signature
/// is still checked with the site's keys; `organizations` is checked in `id_token.rs`).
fn id_token_issuers(spec: &ProviderSpec, site: Option<&str>) -> Vec<String> {
    let Some(id_token) = &spec.id_token else { return Vec::new() };
    let tenant_site = site.filter(|_| spec.site.as_ref().is_some_and(|site| site.kind == SiteKind::Tenant));
    let tenant = match (tenant_site, &id_token.consumer_tenant) {
        (Some(site), Some(consumers)) if site.eq_ignore_ascii_case("consumers") => Some(consumers.as_str()),
        (site, _) => site.filter(|s| uuid::Uuid::parse_str(s).is_ok()),
    };
    // A base-URL site (GitLab) is its own issuer.
    let base_url = spec.site.as_ref().filter(|s| s.kind == SiteKind::BaseUrl).map(|s| {
        let chosen = site.unwrap_or(s.default.as_str());
        chosen.trim_end_matches('/').to_owned()
    });
    id_token
        .issuers
        .iter()
        .map(|issuer| {
            let issuer = match tenant {
                Some(tenant) => issuer.replace("{tid}", tenant),
                None => issuer.clone(),
            };
            match &base_url {
                Some(site) => issuer.replace("{site}", site),
                None => issuer,
            }
        })
        .collect()
}

/// Is `site` acceptable for this kind of site? Returns the cleaned value.
pub fn check_site(kind: SiteKind, site: &str) -> crate::Result<String> {
    let site = site.trim();
    match kind {
        SiteKind::BaseUrl => {
            let url = super::provider_url("site", "server address", site)?;
            // Endpoint paths are appended to it.
            if url.query().is_some() {
                return Err(crate::Error::invalid(
                    "site",
                    "The server address is the start of its URLs, without a ?query, such as https://gitlab.example.com.",
                ));
            }
            Ok(url.as_str().trim_end_matches('/').to_owned())
        }
        SiteKind::Tenant => {
            let valid = !site.is_empty()
                && site.len() <= 100
                && site.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if valid {
                Ok(site.to_owned())
            } else {
                Err(crate::Error::invalid(
                    "site",
                    "A tenant is an ID or a domain: letters, digits, dots and dashes, such as contoso.onmicrosoft.com.",
                ))
            }
        }
    }
}

/// The catalog's providers and the custom ones share one id space: catalog ids are
/// short words, custom ids are UUIDs.
pub fn catalog_spec(provider_id: &str) -> Option<&'static ProviderSpec> {
    Catalog::builtin().provider(provider_id)
}
