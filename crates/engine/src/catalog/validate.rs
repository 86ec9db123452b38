//! Checks of the catalog that serde cannot express. Shared with build.rs: an invalid
//! catalog fails the build with every problem listed.

use std::collections::BTreeSet;

use super::schema::{
    ApiKeySpec, CatalogFile, CheckAuth, CheckSpec, ClientAuth, ClientSecretRule, HttpMethod, IdentitySource,
    IntegrationSpec, ProviderSpec, RevocationStyle, RevokedTokens, SiteKind,
};
use super::template::template_fields;

/// RFC 6749 §5.2 error codes a provider-specific code may be mapped to.
const STANDARD_ERRORS: &[&str] =
    &["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "invalid_scope"];

/// The endpoints a provider's site may fill in.
const SITE_ENDPOINTS: [&str; 5] =
    ["authorize_url", "token_url", "revocation_url", "userinfo_url", "device_authorization_url"];

/// Every problem in the catalog, as "where: what" lines; empty when it is valid.
pub fn problems(catalog: &CatalogFile) -> Vec<String> {
    let mut problems = Vec::new();
    for (id, provider) in &catalog.providers {
        let mut report = |what: String| problems.push(format!("provider {id}: {what}"));
        if !is_slug(id) {
            report("ids are lower-case letters, digits, '-' and '_'".into());
        }
        check_provider(provider, &mut report);
        check_app_from(catalog, provider, &mut report);
    }
    let mut names = BTreeSet::new();
    for (id, integration) in &catalog.integrations {
        let mut report = |what: String| problems.push(format!("integration {id}: {what}"));
        if !is_slug(id) {
            report("ids are lower-case letters, digits, '-' and '_'".into());
        }
        if catalog.providers.contains_key(id) && integration.provider.as_deref() != Some(id) {
            report("an integration may share its id only with its own provider".into());
        }
        if !names.insert(integration.name.to_lowercase()) {
            report(format!("another integration is also named {:?}", integration.name));
        }
        check_integration(catalog, integration, &mut report);
    }
    problems
}

fn check_integration(catalog: &CatalogFile, integration: &IntegrationSpec, report: &mut impl FnMut(String)) {
    for (field, text) in [
        ("name", &integration.name),
        ("category", &integration.category),
        ("description", &integration.description),
    ] {
        if text.trim().is_empty() {
            report(format!("{field} is empty"));
        }
    }
    check_url(&integration.docs_url, "docs_url", report);
    match (&integration.provider, &integration.api_key) {
        (Some(provider_id), None) => match catalog.providers.get(provider_id) {
            None => report(format!("names provider {provider_id:?}, which the catalog lacks")),
            Some(provider) => check_oauth_integration(integration, provider_id, provider, report),
        },
        (None, Some(api_key)) => check_api_key_integration(integration, api_key, report),
        _ => report("needs exactly one of `provider` (OAuth) or `api_key`".into()),
    }
}

fn check_oauth_integration(
    integration: &IntegrationSpec,
    provider_id: &str,
    provider: &ProviderSpec,
    report: &mut impl FnMut(String),
) {
    if integration.scopes.is_empty() && !provider.scopes.is_empty() {
        report("an OAuth integration names the scopes it needs".into());
    }
    for scope in &integration.scopes {
        if !provider.scopes.contains_key(scope) {
            report(format!("scope {scope:?} is not one of {provider_id}'s scopes"));
        }
    }
    if let Some(check) = &integration.check {
        let endpoints: &[&str] = if provider.userinfo_url.is_some() { &["userinfo_url"] } else { &[] };
        check_check(check, endpoints, report);
        if check.auth != CheckAuth::Bearer {
            report("an OAuth integration's check uses the access token (bearer)".into());
        }
    }
    if let Some(host) = &integration.git_host {
        check_url(host, "git_host", report);
        if integration.git_username.is_none() || provider.site.is_some() {
            report("git_host is for a git_username on a provider without a site".into());
        }
    }
    if let Some(username) = &integration.git_username {
        // git is served on the provider's site (github.com or the person's server), or on
        // the one host a provider without a site names.
        let base_url_site = provider.site.as_ref().is_some_and(|site| site.kind == SiteKind::BaseUrl);
        if !base_url_site && integration.git_host.is_none() {
            report("git_username needs a provider whose site is a base URL, or a git_host".into());
        }
        if username.trim().is_empty() || username.contains(['\n', '\0', '=']) {
            report(format!("git_username {username:?} is not a plain user name"));
        }
    }
}

fn check_api_key_integration(
    integration: &IntegrationSpec,
    api_key: &ApiKeySpec,
    report: &mut impl FnMut(String),
) {
    check_url(&api_key.create_url, "create_url", report);
    let mut ids = BTreeSet::new();
    for field in &api_key.fields {
        if !is_slug(&field.id) || !ids.insert(field.id.as_str()) {
            report(format!("key field {:?} is not a unique lower-case id", field.id));
        }
        if field.label.trim().is_empty() {
            report(format!("key field {:?} has no label", field.id));
        }
    }
    if !api_key.fields.iter().any(|f| f.id == api_key.token_field && f.secret) {
        report(format!("token_field {:?} must name a secret key field", api_key.token_field));
    }
    let mut field_ids: Vec<&str> = api_key.fields.iter().map(|f| f.id.as_str()).collect();
    if let Some(base_url) = &api_key.base_url {
        check_url(base_url, "base_url", report);
        field_ids.push("base_url");
    }
    if let Some(check) = &integration.check {
        check_check(check, &field_ids, report);
    }
    if !integration.scopes.is_empty() {
        report("an API-key integration has no scopes".into());
    }
    if integration.git_username.is_some() {
        report("an API-key integration does not serve git".into());
    }
}

fn check_provider(provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    check_setup_help(provider, report);
    check_endpoints(provider, report);
    check_id_token(provider, report);
    check_authorize_request(provider, report);
    check_identity(provider, report);
    check_scopes_and_error_codes(provider, report);
    check_token_quirks(provider, report);
}

/// A borrowed provider app must be usable as it is: the same authorization server and
/// redirect, from a provider that has an app of its own.
fn check_app_from(catalog: &CatalogFile, provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    let Some(from) = &provider.app_from else { return };
    let Some(lender) = catalog.providers.get(from) else {
        return report(format!("app_from names {from:?}, which is not a provider"));
    };
    if lender.app_from.is_some() {
        report(format!("app_from names {from:?}, which borrows its own provider app"));
    }
    let same_server =
        lender.authorize_url == provider.authorize_url && lender.token_url == provider.token_url;
    let same_redirect =
        lender.redirect.host == provider.redirect.host && lender.redirect.port == provider.redirect.port;
    let same_site = lender.site.as_ref().map(|s| s.kind) == provider.site.as_ref().map(|s| s.kind);
    if !(same_server && same_redirect && same_site) {
        report(format!(
            "app_from {from:?} has other endpoints, redirect or site: its provider app would not work"
        ));
    }
}

/// Token answer fields kept, the refresh path, the assumed lifetime, the empty secret and
/// the User-Agent.
fn check_token_quirks(provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    const SECRET_FIELDS: [&str; 3] = ["access_token", "refresh_token", "id_token"];
    for field in &provider.kept_token_fields {
        if !is_slug(field) || SECRET_FIELDS.contains(&field.as_str()) {
            report(format!(
                "kept_token_fields names {field:?}, which is not a plain field that is not a token"
            ));
        }
    }
    if let Some(path) = &provider.refresh_path {
        if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
            report(format!("refresh_path {path:?} is a path such as /v1/oauth/refresh"));
        }
    }
    if provider.assumed_lifetime_secs.is_some_and(|secs| !(60..=86_400).contains(&secs)) {
        report("assumed_lifetime_secs is between 60 (a minute) and 86400 (a day)".into());
    }
    if provider.client_secret == ClientSecretRule::Empty && provider.client_auth != ClientAuth::Basic {
        report("client_secret = \"empty\" is an empty HTTP Basic password: client_auth = \"basic\"".into());
    }
    if let Some(agent) = &provider.user_agent {
        let known = template_fields(agent)
            .is_some_and(|fields| fields.iter().all(|f| f == "version" || f == "client_id"));
        if !known || agent.trim().is_empty() || !agent.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            report("user_agent is printable ASCII naming only {version} and {client_id}".into());
        }
    }
}

/// The name, set-up steps and links a person follows to register a provider app.
fn check_setup_help(provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    if provider.name.trim().is_empty() {
        report("name is empty".into());
    }
    if provider.setup.is_empty() || provider.setup.iter().any(|step| step.trim().is_empty()) {
        report("setup lists the steps to register a provider app".into());
    }
    if !provider.setup.iter().any(|step| step.contains("{redirect_uri}")) {
        report("a setup step names the redirect URI to register ({redirect_uri})".into());
    }
    check_url(&provider.docs_url, "docs_url", report);
    check_url(&provider.console_url, "console_url", report);
}

/// The endpoints (a site's own among them) are https URLs once the site is filled in;
/// a site has a label, help and, for a base URL, an https default.
fn check_endpoints(provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    let mut endpoints = vec![("authorize_url", &provider.authorize_url), ("token_url", &provider.token_url)];
    endpoints.extend(provider.revocation_url.as_ref().map(|url| ("revocation_url", url)));
    endpoints.extend(provider.userinfo_url.as_ref().map(|url| ("userinfo_url", url)));
    endpoints.extend(provider.device_authorization_url.as_ref().map(|url| ("device_authorization_url", url)));
    endpoints.extend(provider.id_token.as_ref().map(|spec| ("id_token.jwks_url", &spec.jwks_url)));
    if let Some(site) = &provider.site {
        for (name, url) in &site.urls {
            if !SITE_ENDPOINTS.contains(&name.as_str()) {
                report(format!("site.urls names unknown endpoint {name:?}"));
            }
            endpoints.push((name.as_str(), url));
        }
        if site.label.trim().is_empty() || site.help.trim().is_empty() {
            report("site needs a label and help".into());
        }
        if site.kind == SiteKind::BaseUrl {
            check_url(&site.default, "site.default", report);
        }
    }
    let example_site = match provider.site.as_ref().map(|s| s.kind) {
        Some(SiteKind::Tenant) => "common",
        _ => "https://example.com",
    };
    for (name, template) in endpoints {
        if template.contains("{site}") && provider.site.is_none() {
            report(format!("{name} uses {{site}} but the provider has no site"));
        }
        let filled = template.replace("{site}", example_site).replace("{client_id}", "client");
        check_url(&filled, name, report);
    }
    let sources = &provider.sources;
    let month = sources.checked.split_once('-').filter(|(year, month)| {
        year.len() == 4
            && month.len() == 2
            && [year, month].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    });
    if month.is_none() {
        report(format!("sources.checked must be a month, YYYY-MM, not “{}”", sources.checked));
    }
    if sources.urls.is_empty() || sources.urls.iter().any(|url| !url.starts_with("https://")) {
        report("sources.urls must name the https documentation pages the entry follows".into());
    }
    if provider.revocation == RevocationStyle::BearerPost
        && provider.revoke_with != RevokedTokens::FreshAccessToken
    {
        report("bearer_post revocation sends the access token: revoke_with = \"fresh_access_token\"".into());
    }
    if provider.revocation == RevocationStyle::GithubGrant
        && !provider.revocation_url.as_deref().is_some_and(|url| url.contains("{client_id}"))
    {
        report("github_grant revocation needs a revocation_url with {client_id}".into());
    }
}

fn check_id_token(provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    if let Some(issuer) = &provider.issuer {
        check_url(issuer, "issuer", report);
    }
    let Some(spec) = &provider.id_token else { return };
    if spec.issuers.is_empty() {
        report("id_token.issuers names at least one issuer".into());
    }
    for issuer in &spec.issuers {
        if issuer.contains("{site}")
            && !provider.site.as_ref().is_some_and(|site| site.kind == SiteKind::BaseUrl)
        {
            report("id_token.issuers names {site}, which needs a base_url site".into());
        }
        let filled = issuer.replace("{tid}", "tenant").replace("{site}", "https://example.com");
        // Google documents its issuer with and without the scheme.
        let filled = if filled.contains("://") { filled } else { format!("https://{filled}") };
        check_url(&filled, "id_token.issuers", report);
    }
    if spec.consumer_tenant.is_some() && !spec.issuers.iter().any(|issuer| issuer.contains("{tid}")) {
        report("id_token.consumer_tenant needs an issuer that names {tid}".into());
    }
}

/// What the authorize request carries besides URLs: the scope separator and the
/// redirect URI.
fn check_authorize_request(provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    if ![" ", ","].contains(&provider.scope_separator.as_str()) {
        report("scope_separator is \" \" or \",\"".into());
    }
    if !["127.0.0.1", "localhost"].contains(&provider.redirect.host.as_str()) {
        report("redirect.host is 127.0.0.1 or localhost".into());
    }
    if provider.redirect.port == Some(0) {
        report("redirect.port is a fixed port number (leave it out for any port)".into());
    }
}

fn check_identity(provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    if provider.identity.source == IdentitySource::Api && provider.userinfo_url.is_none() {
        report("identity from the API needs userinfo_url".into());
    }
    if provider.identity.source == IdentitySource::IdToken
        && (provider.id_token.is_none() || !provider.base_scopes.iter().any(|s| s == "openid"))
    {
        report("identity from the ID token needs id_token and the openid base scope".into());
    }
    for template in std::iter::once(&provider.identity.subject).chain(&provider.identity.account) {
        if template_fields(template).is_none_or(|fields| fields.is_empty()) {
            report(format!("identity template {template:?} must name fields in braces"));
        }
    }
    if provider.identity.id_token_claim.is_some()
        && (provider.identity.source != IdentitySource::Api || provider.id_token.is_none())
    {
        report("identity.id_token_claim needs identity from the API and an id_token".into());
    }
    if provider.identity.account.is_empty() {
        report("identity.account names at least one template".into());
    }
    if let Some(body) = &provider.identity.body {
        check_json_body(body, provider.identity.method, "identity.body", report);
    }
}

fn check_scopes_and_error_codes(provider: &ProviderSpec, report: &mut impl FnMut(String)) {
    for (short, scope) in &provider.scopes {
        if scope.value.trim().is_empty() || scope.value.contains(char::is_whitespace) {
            report(format!("scope {short:?} needs a value without spaces"));
        }
        if scope.description.trim().is_empty() {
            report(format!("scope {short:?} needs a description"));
        }
    }
    for scope in &provider.base_scopes {
        if !provider.scopes.contains_key(scope) {
            report(format!("base scope {scope:?} is not in its scopes"));
        }
    }
    for (code, meaning) in &provider.error_codes {
        if !STANDARD_ERRORS.contains(&meaning.as_str()) {
            report(format!("error code {code:?} maps to {meaning:?}, not an RFC 6749 code"));
        }
    }
}
/// A request body the catalog gives: JSON, sent with POST.
fn check_json_body(body: &str, method: HttpMethod, what: &str, report: &mut impl FnMut(String)) {
    if method != HttpMethod::Post {
        report(format!("{what} goes with method = \"post\""));
    }
    if serde_json::from_str::<serde_json::Value>(body).is_err() {
        report(format!("{what} is not JSON"));
    }
}

fn check_check(check: &CheckSpec, fields: &[&str], report: &mut impl FnMut(String)) {
    if let Some(body) = &check.body {
        check_json_body(body, check.method, "check.body", report);
    }
    let mut templates = vec![check.url.as_str()];
    templates.extend(check.headers.values().map(String::as_str));
    match &check.auth {
        CheckAuth::Bearer => {}
        CheckAuth::Basic { username, password } => templates.extend([username.as_str(), password.as_str()]),
        CheckAuth::Header { name, value } => {
            if name.trim().is_empty() {
                report("check header needs a name".into());
            }
            templates.push(value);
        }
    }
    for template in templates {
        match template_fields(template) {
            None => report(format!("check template {template:?} has unbalanced braces")),
            Some(named) => {
                for field in named.iter().filter(|f| !fields.contains(&f.as_str())) {
                    report(format!("check template {template:?} names unknown key field {field:?}"));
                }
            }
        }
    }
    let mut filled = check.url.clone();
    for field in fields {
        let example = if field.ends_with("url") { "https://example.com" } else { "value" };
        filled = filled.replace(&format!("{{{field}}}"), example);
    }
    check_url(&filled, "check.url", report);
}

fn check_url(text: &str, what: &str, report: &mut impl FnMut(String)) {
    match url::Url::parse(text) {
        Ok(url) if url.scheme() == "https" && url.host_str().is_some() => {}
        Ok(_) => report(format!("{what} must be an https URL: {text:?}")),
        Err(error) => report(format!("{what} is not a URL ({error}): {text:?}")),
    }
}

fn is_slug(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}
