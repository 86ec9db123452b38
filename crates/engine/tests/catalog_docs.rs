//! `docs/providers.md` and README's provider table are generated from the built-in
//! catalog, so what they say is what Grantkeeper does. This test fails when either is
//! stale; run it with `UPDATE_DOCS=1` to regenerate them.

use std::path::Path;

use grantkeeper_engine::catalog::{
    Catalog, ClientAuth, ClientSecretRule, Pkce, ProviderSpec, RefreshTokens, RevocationStyle, RevokedTokens,
};

const README_START: &str =
    "<!-- providers table: generated from the catalog by crates/engine/tests/catalog_docs.rs -->\n";
const README_END: &str = "<!-- end of providers table -->\n";

#[test]
fn provider_docs_follow_the_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let docs = root.join("docs/providers.md");
    let readme = root.join("README.md");
    let readme_text = std::fs::read_to_string(&readme).unwrap();
    let (before, rest) = readme_text.split_once(README_START).expect("README marks its providers table");
    let (_, after) = rest.split_once(README_END).expect("README marks the end of its providers table");
    let generated_readme = format!("{before}{README_START}\n{}\n{README_END}{after}", readme_table());
    let generated_docs = providers_page();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&docs, &generated_docs).unwrap();
        std::fs::write(&readme, &generated_readme).unwrap();
        return;
    }
    let stale = "is stale: run `UPDATE_DOCS=1 cargo test -p grantkeeper-engine --test catalog_docs`";
    assert!(
        std::fs::read_to_string(&docs).unwrap_or_default() == generated_docs,
        "docs/providers.md {stale}"
    );
    assert!(readme_text == generated_readme, "README's providers table {stale}");
}

/// The redirect URI to register, and whether any port will do.
fn redirect(spec: &ProviderSpec) -> String {
    match spec.redirect.port {
        Some(_) => format!("`{}` (exactly)", spec.redirect_uri()),
        None => format!("`{}` (any port)", spec.redirect_uri()),
    }
}

fn client_secret(spec: &ProviderSpec) -> String {
    let rule = match spec.client_secret {
        ClientSecretRule::Required => "required",
        ClientSecretRule::Optional => "optional (public client)",
        ClientSecretRule::Empty => "none (an empty one, by HTTP Basic)",
    };
    match spec.app_from.as_deref().and_then(|from| Catalog::builtin().provider(from)) {
        Some(lender) => format!("{rule}; signs in with {}'s provider app unless it has its own", lender.name),
        None => rule.to_owned(),
    }
}

fn readme_table() -> String {
    let catalog = Catalog::builtin();
    let mut table = String::from(
        "| provider | integrations | redirect URI to register | client secret | site |\n|---|---|---|---|---|\n",
    );
    for (id, spec) in catalog.providers() {
        let integrations: Vec<&str> = catalog.integrations_of(id).map(|(_, i)| i.name.as_str()).collect();
        table.push_str(&format!(
            "| {} (`{id}`) | {} | {} | {} | {} |\n",
            spec.name,
            integrations.join(", "),
            redirect(spec),
            client_secret(spec),
            spec.site.as_ref().map_or("", |site| site.label.as_str()),
        ));
    }
    table
}

fn providers_page() -> String {
    let mut page = String::from(
        "# Providers\n\n\
         What Grantkeeper does with each provider in its catalog, generated from\n\
         `crates/engine/catalog.toml` by `crates/engine/tests/catalog_docs.rs` (do not edit by\n\
         hand). Each entry follows the documentation listed under it, read in the month shown.\n\n\
         | provider | redirect URI | PKCE | client | refresh tokens | a sign-in lasts | revocation | device sign-in |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let catalog = Catalog::builtin();
    for (id, spec) in catalog.providers() {
        page.push_str(&format!(
            "| {} (`{id}`) | {} | {} | {}, {} | {} | {} | {} | {} |\n",
            spec.name,
            redirect(spec),
            if spec.pkce == Pkce::S256 { "S256" } else { "none" },
            client_secret(spec),
            client_auth(spec.client_auth),
            refresh_tokens(spec.refresh_tokens),
            sign_in_lasts(spec),
            revocation(spec),
            match (&spec.device_authorization_url, spec.device_scopes.is_empty()) {
                (None, _) => "no",
                (Some(_), true) => "yes",
                (Some(_), false) => "for a few scopes",
            },
        ));
    }
    page.push_str("\n## Sources\n");
    for (id, spec) in catalog.providers() {
        page.push_str(&format!("\n**{} (`{id}`)**, checked {}:\n\n", spec.name, spec.sources.checked));
        for url in &spec.sources.urls {
            page.push_str(&format!("- <{url}>\n"));
        }
    }
    page
}

fn client_auth(auth: ClientAuth) -> &'static str {
    match auth {
        ClientAuth::Basic => "secret by HTTP Basic",
        ClientAuth::Post => "secret in the body",
        ClientAuth::None => "no secret sent",
    }
}

fn refresh_tokens(refresh: RefreshTokens) -> &'static str {
    match refresh {
        RefreshTokens::None => "none (tokens do not expire)",
        RefreshTokens::Reusable => "reusable",
        RefreshTokens::Rotating => "rotating (single use)",
    }
}

fn sign_in_lasts(spec: &ProviderSpec) -> String {
    match (spec.sign_in_lasts_days, &spec.testing_mode) {
        (Some(days), _) => format!("{days} days"),
        (None, Some(testing)) => {
            format!("no set limit; {} days for an app in testing", testing.sign_in_lasts_days)
        }
        (None, None) => "no set limit".into(),
    }
}

fn revocation(spec: &ProviderSpec) -> &'static str {
    match (&spec.revocation_url, spec.revoke_with) {
        (None, _) => "none offered",
        (Some(_), _) if spec.revocation == RevocationStyle::GithubGrant => {
            "the whole grant, with the client secret"
        }
        (Some(_), RevokedTokens::RefreshThenAccess) => "refresh token, then access token",
        (Some(_), RevokedTokens::RefreshEndsGrant) => "refresh token (ends the grant)",
        (Some(_), RevokedTokens::FreshAccessToken) => "a live access token",
    }
}

/// The window draws each provider and API-key service with its own mark, bundled from
/// `icons/providers/` (an id without one would get the neutral mark of custom providers).
#[test]
fn every_provider_and_api_key_service_has_a_mark() {
    let marks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../icons/providers");
    let catalog = Catalog::builtin();
    let api_keys = catalog.integrations().filter(|(_, spec)| spec.provider.is_none()).map(|(id, _)| id);
    for id in catalog.providers().map(|(id, _)| id).chain(api_keys) {
        assert!(marks.join(format!("{id}.svg")).exists(), "icons/providers/{id}.svg is missing");
    }
}
