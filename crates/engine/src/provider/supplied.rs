//! Provider apps an organisation or a distribution supplies: read-only TOML files that
//! name, for any catalog provider, the client ID of an app registered once for
//! everyone, with its site, client authentication and endpoint overrides. The person's
//! own provider app wins over the per-user file, which wins over the system-wide one.
//! A client secret never comes from such a file: a supplied app is a public client, or
//! the person enters the secret, which makes the provider app their own.
//!
//! An entry named by an authorization server's issuer URL instead supplies the client ID
//! for connections by URL whose server that is (an MCP server's, say).
//!
//! ```toml
//! [google]
//! client_id = "1234-abc.apps.googleusercontent.com"
//!
//! [microsoft]
//! client_id = "00000000-0000-0000-0000-000000000000"
//! site = "contoso.onmicrosoft.com"
//!
//! ["https://auth.example.com"]
//! client_id = "grantkeeper-desktop"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    authorize_endpoint, catalog_spec, check_site, issuer_url, provider_url, EndpointOverrides, UrlCheck,
};
use crate::catalog::ClientAuth;
use crate::store::ProviderAppRow;
use crate::{Error, Result, Timestamp};

/// The name of the file in each of the places it is looked for.
pub const SUPPLIED_APPS_FILE: &str = "provider-apps.toml";

/// One provider's entry in a supplied file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppliedEntry {
    client_id: String,
    site: Option<String>,
    client_auth: Option<ClientAuth>,
    authorize_url: Option<String>,
    token_url: Option<String>,
    revocation_url: Option<String>,
    userinfo_url: Option<String>,
    jwks_url: Option<String>,
    device_authorization_url: Option<String>,
}

/// The supplied provider apps of `files` (most important first), by catalog provider
/// id, each naming its file. A missing file supplies nothing; a file that cannot be used
/// is an error naming it and the line at fault.
pub fn supplied_apps(files: &[PathBuf]) -> Result<BTreeMap<String, ProviderAppRow>> {
    let mut entries = supplied_entries(files)?;
    entries.retain(|key, _| !is_server(key));
    Ok(entries)
}

/// The client ID supplied for the authorization server `issuer`, as a public client's
/// provider app; None when no file names that server.
pub fn supplied_for_server(files: &[PathBuf], issuer: &str) -> Result<Option<ProviderAppRow>> {
    let same = |key: &str| key.trim_end_matches('/') == issuer.trim_end_matches('/');
    Ok(supplied_entries(files)?
        .into_iter()
        .find_map(|(key, app)| (is_server(&key) && same(&key)).then_some(app)))
}

/// An entry named by a URL is an authorization server's; any other, a catalog provider's.
fn is_server(key: &str) -> bool {
    key.contains("://")
}

/// Every entry of `files`, the more important file's winning.
fn supplied_entries(files: &[PathBuf]) -> Result<BTreeMap<String, ProviderAppRow>> {
    let mut supplied = BTreeMap::new();
    for file in files.iter().rev() {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(invalid(file, None, &format!("it cannot be read ({error})"))),
        };
        for (provider_id, app) in apps_in(file, &text)? {
            supplied.insert(provider_id, ProviderAppRow { supplied_from: Some(file.clone()), ..app });
        }
    }
    Ok(supplied)
}

/// The entries of one file, each checked as the person's own provider app would be.
fn apps_in(file: &Path, text: &str) -> Result<Vec<(String, ProviderAppRow)>> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let entries: toml::Spanned<BTreeMap<toml::Spanned<String>, toml::Spanned<SuppliedEntry>>> =
        toml::from_str(text).map_err(|error| {
            // An unknown key's error spans its whole table: point at the key itself.
            let unknown =
                error.message().strip_prefix("unknown field `").and_then(|rest| rest.split('`').next());
            let line = error.span().map(|span| {
                let key_at = unknown.and_then(|key| text.get(span.clone())?.find(key));
                line_of(span.start + key_at.unwrap_or(0))
            });
            let message = match unknown {
                Some("client_secret") => CLIENT_SECRET_REFUSED,
                _ => error.message().trim(),
            };
            invalid(file, line, message)
        })?;
    entries
        .into_inner()
        .into_iter()
        .map(|(provider_id, entry)| {
            let line = line_of(provider_id.span().start);
            let provider_id = provider_id.into_inner();
            let app = match is_server(&provider_id) {
                true => checked_server_app(&provider_id, entry.into_inner()),
                false => checked_app(&provider_id, entry.into_inner()),
            }
            .map_err(|message| invalid(file, Some(line), &message))?;
            Ok((provider_id, app))
        })
        .collect()
}

/// One entry as a provider app, or what is wrong with it.
fn checked_app(provider_id: &str, entry: SuppliedEntry) -> std::result::Result<ProviderAppRow, String> {
    let Some(spec) = catalog_spec(provider_id) else {
        return Err(format!("“{provider_id}” is not a provider in Grantkeeper's catalog"));
    };
    let client_id = checked_client_id(&entry.client_id)?;
    let site = match (&entry.site, &spec.site) {
        (None, _) => None,
        (Some(site), Some(kind)) => Some(check_site(kind.kind, site).map_err(|e| e.to_string())?),
        (Some(_), None) => return Err(format!("{} has no site to set", spec.name)),
    };
    let checked = |value: &Option<String>, check: UrlCheck| {
        value
            .as_deref()
            .map(|url| check("url", "endpoint", url).map(String::from).map_err(|e| e.to_string()))
            .transpose()
    };
    let endpoint = |value: &Option<String>| checked(value, provider_url);
    let overrides = EndpointOverrides {
        authorize_url: checked(&entry.authorize_url, authorize_endpoint)?,
        token_url: endpoint(&entry.token_url)?,
        revocation_url: endpoint(&entry.revocation_url)?,
        userinfo_url: endpoint(&entry.userinfo_url)?,
        jwks_url: endpoint(&entry.jwks_url)?,
        device_authorization_url: endpoint(&entry.device_authorization_url)?,
    };
    Ok(ProviderAppRow {
        id: format!("supplied:{provider_id}"),
        provider_id: provider_id.to_owned(),
        client_id,
        client_secret_key: None,
        client_secret_last4: None,
        enabled: true,
        site,
        overrides,
        client_auth: entry.client_auth,
        created_at: Timestamp::now(),
        attention: None,
        supplied_from: None,
    })
}

/// An authorization server's entry: a public client's ID and nothing else, since its
/// endpoints come from the server's own metadata.
fn checked_server_app(issuer: &str, entry: SuppliedEntry) -> std::result::Result<ProviderAppRow, String> {
    issuer_url("issuer", "authorization server's issuer", issuer).map_err(|e| e.to_string())?;
    let SuppliedEntry { client_id, site, client_auth, .. } = &entry;
    let endpoints = [
        &entry.authorize_url,
        &entry.token_url,
        &entry.revocation_url,
        &entry.userinfo_url,
        &entry.jwks_url,
        &entry.device_authorization_url,
    ];
    if site.is_some() || endpoints.iter().any(|url| url.is_some()) {
        return Err("an authorization server's entry takes only client_id: its endpoints come from the server's metadata".into());
    }
    if client_auth.is_some_and(|auth| auth != ClientAuth::None) {
        return Err(
            "an authorization server's app is a public client: client_auth can only be \"none\"".into()
        );
    }
    let client_id = checked_client_id(client_id)?;
    Ok(ProviderAppRow {
        id: format!("supplied:{issuer}"),
        provider_id: issuer.to_owned(),
        client_id,
        client_secret_key: None,
        client_secret_last4: None,
        enabled: true,
        site: None,
        overrides: EndpointOverrides::default(),
        client_auth: Some(ClientAuth::None),
        created_at: Timestamp::now(),
        attention: None,
        supplied_from: None,
    })
}

fn checked_client_id(client_id: &str) -> std::result::Result<String, String> {
    let client_id = client_id.trim();
    if client_id.is_empty() || client_id.len() > 512 || client_id.chars().any(crate::error::misleads) {
        return Err("client_id must be the provider app's client ID".into());
    }
    Ok(client_id.to_owned())
}

const CLIENT_SECRET_REFUSED: &str = "a client secret is never read from this file (enter it with `grantkeeper providers set PROVIDER --client-secret-stdin`, which makes the provider app your own)";

fn invalid(file: &Path, line: Option<usize>, message: &str) -> Error {
    Error::SuppliedAppsInvalid { path: file.display().to_string(), line, message: message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<(String, ProviderAppRow)>> {
        apps_in(Path::new("/etc/grantkeeper/provider-apps.toml"), text)
    }

    #[test]
    fn entries_are_checked_and_errors_name_the_line() {
        let apps = read("[google]\nclient_id = \" 123.apps \"\n\n[microsoft]\nclient_id = \"m\"\nsite = \"contoso.example\"\nclient_auth = \"none\"\n").unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(
            (apps[0].1.client_id.as_str(), apps[1].1.site.as_deref()),
            ("123.apps", Some("contoso.example"))
        );
        assert_eq!(apps[1].1.client_auth, Some(ClientAuth::None));

        let secret = read("[google]\nclient_id = \"x\"\nclient_secret = \"s\"\n").unwrap_err().to_string();
        assert!(secret.contains("line 3") && secret.contains("never read from this file"), "{secret}");
        let unknown =
            read("[google]\nclient_id = \"x\"\n\n[nope]\nclient_id = \"y\"\n").unwrap_err().to_string();
        assert!(unknown.contains("line 4") && unknown.contains("“nope” is not a provider"), "{unknown}");
        let broken = read("[google\nclient_id = \"x\"\n").unwrap_err().to_string();
        assert!(broken.contains("/etc/grantkeeper/provider-apps.toml (line 1)"), "{broken}");
        let url =
            read("[gitlab]\nclient_id = \"x\"\ntoken_url = \"http://gitlab.example.com/t\"\n").unwrap_err();
        assert!(url.to_string().contains("line 1"), "{url}");
    }

    #[test]
    fn an_authorization_server_entry_gives_only_a_public_client_id() {
        let apps = read("[\"https://auth.example.com\"]\nclient_id = \"gk\"\n").unwrap();
        assert_eq!((apps[0].0.as_str(), apps[0].1.client_id.as_str()), ("https://auth.example.com", "gk"));
        assert_eq!(apps[0].1.client_auth, Some(ClientAuth::None));

        let site = read("[google]\nclient_id = \"x\"\n\n[\"https://auth.example.com\"]\nclient_id = \"gk\"\nsite = \"a\"\n")
            .unwrap_err()
            .to_string();
        assert!(site.contains("line 4") && site.contains("takes only client_id"), "{site}");
        let auth = read("[\"https://auth.example.com\"]\nclient_id = \"gk\"\nclient_auth = \"post\"\n");
        assert!(auth.unwrap_err().to_string().contains("public client"));
        let plain = read("[\"http://auth.example.com\"]\nclient_id = \"gk\"\n").unwrap_err().to_string();
        assert!(plain.contains("line 1") && plain.contains("https"), "{plain}");
    }
}
