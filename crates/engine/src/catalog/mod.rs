//! The built-in catalog of providers and integrations, compiled into the binary from
//! `catalog.toml` (validated by build.rs).

pub mod schema;
pub(crate) mod template;
#[cfg(test)]
mod validate;

use std::sync::LazyLock;

pub use schema::*;

use crate::api::{AppSetup, CatalogIntegration, CatalogScope, IntegrationKind, KeyField};

static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| {
    // catalog.toml as build.rs checked it, converted to JSON.
    let file: CatalogFile = serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/catalog.json")))
        .expect("build.rs checked that the catalog parses");
    Catalog { file }
});

pub struct Catalog {
    file: CatalogFile,
}

impl Catalog {
    pub fn builtin() -> &'static Catalog {
        &BUILTIN
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderSpec> {
        self.file.providers.get(id)
    }

    pub fn providers(&self) -> impl Iterator<Item = (&str, &ProviderSpec)> {
        self.file.providers.iter().map(|(id, spec)| (id.as_str(), spec))
    }

    /// An integration by id or name, ignoring case.
    pub fn integration(&self, key: &str) -> Option<(&str, &IntegrationSpec)> {
        let key = key.trim();
        self.file
            .integrations
            .iter()
            .find(|(id, spec)| id.eq_ignore_ascii_case(key) || spec.name.eq_ignore_ascii_case(key))
            .map(|(id, spec)| (id.as_str(), spec))
    }

    pub fn integration_by_id(&self, id: &str) -> Option<&IntegrationSpec> {
        self.file.integrations.get(id)
    }

    pub fn integrations(&self) -> impl Iterator<Item = (&str, &IntegrationSpec)> {
        self.file.integrations.iter().map(|(id, spec)| (id.as_str(), spec))
    }

    /// Integrations on `provider_id`, in catalog order.
    pub fn integrations_of<'a>(
        &'a self,
        provider_id: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a IntegrationSpec)> {
        self.integrations().filter(move |(_, spec)| spec.provider.as_deref() == Some(provider_id))
    }

    /// What the catalog page shows for one integration.
    pub fn view(&self, id: &str, spec: &IntegrationSpec) -> CatalogIntegration {
        let provider = spec.provider.as_deref().and_then(|p| self.provider(p).map(|s| (p, s)));
        // The provider app it signs in with, which the page sets up: a lender's, where
        // the provider borrows one (Azure DevOps signs in with Microsoft 365's).
        let app = provider.map(|(id, p)| {
            p.app_from.as_deref().and_then(|from| self.provider(from).map(|l| (from, l))).unwrap_or((id, p))
        });
        let mut app_setup = app.map(|(_, p)| p.app_setup()).unwrap_or_default();
        app_setup.setup.extend(spec.setup.clone());
        CatalogIntegration {
            id: id.to_owned(),
            name: spec.name.clone(),
            category: spec.category.clone(),
            description: spec.description.clone(),
            docs_url: spec.docs_url.clone(),
            kind: if spec.api_key.is_some() { IntegrationKind::ApiKey } else { IntegrationKind::Oauth },
            provider_id: app.map(|(id, _)| id.to_owned()),
            provider_name: app.map(|(_, p)| p.name.clone()),
            mark: spec.provider.clone().unwrap_or_else(|| id.to_owned()),
            scopes: provider.map(|(_, p)| p.scopes_of(spec)).unwrap_or_default(),
            app_setup,
            sources: provider.map(|(_, p)| p.sources.clone()),
            console_url: app.map(|(_, p)| p.console_url.clone()),
            key_create_url: spec.api_key.as_ref().map(|k| k.create_url.clone()),
            key_fields: spec
                .api_key
                .iter()
                .flat_map(|k| &k.fields)
                .map(|f| KeyField {
                    id: f.id.clone(),
                    label: f.label.clone(),
                    secret: f.secret,
                    prefix: f.prefix.clone(),
                })
                .collect(),
            has_check: spec.check.is_some(),
        }
    }

    pub fn views(&self) -> Vec<CatalogIntegration> {
        self.integrations().map(|(id, spec)| self.view(id, spec)).collect()
    }
}

impl ProviderSpec {
    /// The scopes an integration asks for, as the catalog page lists them.
    fn scopes_of(&self, spec: &IntegrationSpec) -> Vec<CatalogScope> {
        spec.scopes
            .iter()
            .filter_map(|short| {
                self.scopes.get(short).map(|scope| CatalogScope {
                    name: short.clone(),
                    value: scope.value.clone(),
                    description: scope.description.clone(),
                })
            })
            .collect()
    }

    /// Setting up its provider app: the steps with the redirect URI filled in.
    pub fn app_setup(&self) -> AppSetup {
        let redirect_uri = self.redirect_uri();
        AppSetup {
            setup: self.setup.iter().map(|step| step.replace("{redirect_uri}", &redirect_uri)).collect(),
            redirect_uri: Some(redirect_uri),
            client_secret_required: self.client_secret == ClientSecretRule::Required,
            site_label: self.site.as_ref().map(|s| s.label.clone()),
            site_help: self.site.as_ref().map(|s| s.help.clone()),
        }
    }

    /// The redirect URI to register at this provider.
    pub fn redirect_uri(&self) -> String {
        match self.redirect.port {
            Some(port) => format!("http://{}:{port}/callback", self.redirect.host),
            None => format!("http://{}/callback", self.redirect.host),
        }
    }

    /// A scope's full string from its short name; None for a scope the provider lacks.
    pub fn scope_value(&self, short: &str) -> Option<&str> {
        self.scopes.get(short).map(|s| s.value.as_str())
    }

    /// The short name of a full scope string, for showing granted scopes.
    pub fn scope_short_name(&self, value: &str) -> Option<&str> {
        self.scopes.iter().find(|(_, s)| s.value == value).map(|(short, _)| short.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_loads_and_validates() {
        let catalog = Catalog::builtin();
        assert!(validate::problems(&catalog.file).is_empty());
        let ids: Vec<&str> = catalog.integrations().map(|(id, _)| id).take(2).collect();
        assert_eq!(ids, ["gmail", "google-drive"], "the file's order is kept");
        let (id, gmail) = catalog.integration("gmail").unwrap();
        assert_eq!((id, gmail.provider.as_deref()), ("gmail", Some("google")));
        assert_eq!(catalog.integration("Google Drive").unwrap().0, "google-drive");
        let google = catalog.provider("google").unwrap();
        assert_eq!(
            google.scope_value("calendar.readonly"),
            Some("https://www.googleapis.com/auth/calendar.readonly")
        );
    }

    /// Azure DevOps signs in with Microsoft 365's provider app, but its card shows its own
    /// mark; an API-key service shows its own.
    #[test]
    fn a_card_shows_its_own_provider_s_mark() {
        let catalog = Catalog::builtin();
        let view = |id: &str| {
            let (id, spec) = catalog.integration(id).unwrap();
            catalog.view(id, spec)
        };
        let devops = view("azure-devops");
        assert_eq!(
            (devops.provider_id.as_deref(), devops.mark.as_str()),
            (Some("microsoft"), "azure-devops")
        );
        assert_eq!(view("gmail").mark, "google");
        assert_eq!(view("openai").mark, "openai");
    }

    #[test]
    fn problems_name_the_entry_and_what_is_wrong() {
        let text = r#"
            [providers.demo]
            name = "Demo"
            docs_url = "https://example.com/docs"
            sources = { checked = "last year", urls = [] }
            console_url = "http://example.com/console"
            setup = ["Register the app."]
            authorize_url = "https://example.com/authorize"
            token_url = "https://example.com/token"
            identity = { source = "api", subject = "{id}", account = ["{login}"] }
            error_codes = { nope = "not_a_code" }
            scopes = { read = { value = "read", description = "Read" } }

            [integrations.demo-thing]
            name = "Demo thing"
            provider = "demo"
            category = "Test"
            description = "A demo."
            docs_url = "https://example.com/docs"
            scopes = ["write"]
        "#;
        let file: CatalogFile = toml::from_str(text).unwrap();
        let problems = validate::problems(&file).join("\n");
        for expected in [
            "provider demo: a setup step names the redirect URI",
            "provider demo: console_url must be an https URL",
            "provider demo: identity from the API needs userinfo_url",
            "provider demo: error code \"nope\" maps to \"not_a_code\"",
            "provider demo: sources.checked must be a month, YYYY-MM, not “last year”",
            "provider demo: sources.urls must name the https documentation pages",
            "integration demo-thing: scope \"write\" is not one of demo's scopes",
        ] {
            assert!(problems.contains(expected), "missing {expected:?} in:\n{problems}");
        }
    }

    #[test]
    fn the_new_quirk_fields_are_read_from_the_catalog() {
        let catalog = Catalog::builtin();
        let reddit = catalog.provider("reddit").unwrap();
        assert_eq!((reddit.client_secret, reddit.client_auth), (ClientSecretRule::Empty, ClientAuth::Basic));
        assert!(reddit.user_agent.as_deref().is_some_and(|agent| agent.contains("{client_id}")));
        assert_eq!(catalog.provider("salesforce").unwrap().kept_token_fields, ["instance_url"]);
        assert_eq!(catalog.provider("figma").unwrap().refresh_path.as_deref(), Some("/v1/oauth/refresh"));
        let bitbucket = catalog.integration_by_id("bitbucket").unwrap();
        assert_eq!(bitbucket.git_host.as_deref(), Some("https://bitbucket.org"));
        assert_eq!(bitbucket.git_username.as_deref(), Some("x-token-auth"));
        let linear = catalog.provider("linear").unwrap();
        assert!(linear.identity.body.as_deref().is_some_and(|body| body.contains("viewer")));
        assert!(catalog.providers().count() >= 20, "issue 14: at least 20 OAuth providers");
        let view = catalog.view("reddit", catalog.integration_by_id("reddit").unwrap());
        assert!(!view.app_setup.client_secret_required, "an installed app has none to enter");
    }

    #[test]
    fn the_new_quirk_fields_are_checked() {
        let text = r#"
            [providers.demo]
            name = "Demo"
            docs_url = "https://example.com/docs"
            sources = { checked = "2026-12", urls = ["https://example.com/docs"] }
            console_url = "https://example.com/console"
            setup = ["Register {redirect_uri}."]
            authorize_url = "https://example.com/authorize"
            token_url = "https://example.com/token"
            userinfo_url = "https://example.com/me"
            client_auth = "post"
            client_secret = "empty"
            refresh_path = "refresh"
            assumed_lifetime_secs = 0
            kept_token_fields = ["refresh_token"]
            user_agent = "demo/{version} {secret}"
            identity = { source = "api", body = "{not json", subject = "{id}", account = ["{login}"] }
            scopes = {}

            [integrations.demo]
            name = "Demo"
            provider = "demo"
            category = "Test"
            description = "A demo."
            docs_url = "https://example.com/docs"
            git_username = "git"
            check = { url = "{userinfo_url}", body = "{}" }
        "#;
        let file: CatalogFile = toml::from_str(text).unwrap();
        let problems = validate::problems(&file).join("\n");
        for expected in [
            "kept_token_fields names \"refresh_token\"",
            "refresh_path \"refresh\" is a path",
            "assumed_lifetime_secs is between 60",
            "client_secret = \"empty\" is an empty HTTP Basic password",
            "user_agent is printable ASCII naming only {version} and {client_id}",
            "identity.body goes with method = \"post\"",
            "identity.body is not JSON",
            "check.body goes with method = \"post\"",
            "git_username needs a provider whose site is a base URL, or a git_host",
        ] {
            assert!(problems.contains(expected), "missing {expected:?} in:\n{problems}");
        }
        let hosted = text.replace(
            "git_username = \"git\"",
            "git_username = \"git\"\ngit_host = \"http://git.example.com\"",
        );
        let problems = validate::problems(&toml::from_str(&hosted).unwrap()).join("\n");
        assert!(problems.contains("git_host must be an https URL"), "{problems}");
        assert!(!problems.contains("or a git_host"), "{problems}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let error =
            toml::from_str::<CatalogFile>("[providers.x]\nnmae = \"X\"\n[integrations]\n").unwrap_err();
        assert!(error.to_string().contains("unknown field `nmae`"), "{error}");
    }
}
