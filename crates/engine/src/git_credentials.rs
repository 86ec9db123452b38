//! Answers git's credential questions (gitcredentials(7)) from connections whose
//! integration serves git over HTTPS on its provider's site (github.com, gitlab.com or
//! the person's own server), with a token fresh enough for a long push.

use std::time::Duration;

use url::Url;

use crate::api::{Connection, ConnectionStatus};
use crate::catalog::Catalog;
use crate::{Engine, Error, Result, Secret};

/// A token handed to git must outlast a slow clone or push.
pub const GIT_MIN_TTL: Duration = Duration::from_secs(10 * 60);

/// What git tells a helper about the remote it needs a credential for.
#[derive(Debug, Default, Clone)]
pub struct GitCredentialRequest {
    pub protocol: String,
    /// Host name, with `:port` when the remote URL names one.
    pub host: String,
    /// The user name in the remote URL, if any.
    pub username: Option<String>,
    /// The password git tried (for `erase`): compared with the stored token, never kept.
    pub password: Option<Secret>,
}

pub struct GitCredential {
    pub username: String,
    pub password: Secret,
    /// Unix time after which git must not reuse the password (git 2.41's `password_expiry_utc`).
    pub password_expiry_utc: Option<i64>,
    pub connection: Connection,
}

impl GitCredential {
    /// `password` for `username`, valid as long as the connection's access token.
    pub fn new(username: String, connection: Connection, password: Secret) -> Self {
        let password_expiry_utc = connection.expires_at.map(|at| at.offset_date_time().unix_timestamp());
        GitCredential { username, password, password_expiry_utc, connection }
    }
}

impl Engine {
    /// The credential for a git remote, or None when no connection serves that host.
    /// Several accounts on one host: the account named in the remote URL
    /// (`https://ada@github.com/...`) wins, else the oldest connection that works.
    pub async fn git_credential(&self, request: &GitCredentialRequest) -> Result<Option<GitCredential>> {
        let Some((connection, username)) = self.git_account(request)? else {
            return Ok(None);
        };
        let (connection, password) = self.access_token(&connection.id, GIT_MIN_TTL).await?;
        Ok(Some(GitCredential::new(username, connection, password)))
    }

    /// The connection that serves a git remote and the user name git gets with its
    /// token; None when no connection serves that host. The token itself comes from
    /// [`Engine::access_token`] or, in the CLI, through the token agent.
    pub fn git_account(&self, request: &GitCredentialRequest) -> Result<Option<(Connection, String)>> {
        let found = self.git_connection(request)?;
        Ok(found
            .map(|(connection, git_username)| (connection, request.username.clone().unwrap_or(git_username))))
    }

    /// git says the remote refused the password: if it is this connection's current
    /// token, check the connection with the provider, which refreshes it or, when the
    /// grant is gone, moves it to Reauthorize. Nothing is deleted.
    pub async fn git_credential_rejected(
        &self,
        request: &GitCredentialRequest,
    ) -> Result<Option<Connection>> {
        let (Some((connection, _)), Some(tried)) = (self.git_connection(request)?, &request.password) else {
            return Ok(None);
        };
        let (_, current) = self.access_token(&connection.id, Duration::ZERO).await?;
        if current.expose() != tried.expose() {
            return Ok(None);
        }
        match self.test_connection(&connection.id).await {
            Ok(_) | Err(Error::NeedsReauthorization { .. }) => Ok(Some(self.connection(&connection.id)?)),
            Err(error) => Err(error),
        }
    }

    fn git_connection(&self, request: &GitCredentialRequest) -> Result<Option<(Connection, String)>> {
        let Some(origin) = origin(&request.protocol, &request.host) else {
            return Ok(None);
        };
        let mut candidates = Vec::new();
        for connection in self.connections()? {
            let Some(integration) = Catalog::builtin().integration_by_id(&connection.integration) else {
                continue;
            };
            let Some(git_username) = integration.git_username.clone() else { continue };
            // The site it was signed in at: an edited site gets no token before a reconnect.
            // A provider without a site (Bitbucket Cloud) serves git on the one host named.
            let credential = self.store.credential(&self.store.credential_id_of(&connection.id)?)?;
            let site = match &integration.git_host {
                Some(host) => Some(host.clone()),
                None => self.signed_in_provider(&credential).ok().and_then(|p| p.site()),
            };
            if site.as_deref().and_then(origin_of).as_ref() != Some(&origin) {
                continue;
            }
            let named = request.username.as_deref().filter(|name| *name != git_username);
            if named.is_some_and(|name| {
                connection.account.as_deref().is_none_or(|a| !a.eq_ignore_ascii_case(name))
            }) {
                continue;
            }
            candidates.push((connection, git_username));
        }
        let needs_person =
            |c: &Connection| matches!(c.status, ConnectionStatus::Reauthorize | ConnectionStatus::Pending);
        // connections() is ordered oldest first; a working one beats one that needs the person.
        candidates.sort_by_key(|(connection, _)| needs_person(connection));
        Ok(candidates.into_iter().next())
    }
}

/// `scheme://host[:port]` as git names the remote; None for anything but https, or
/// http to a loopback address (a test server or a local proxy).
fn origin(protocol: &str, host: &str) -> Option<String> {
    if host.is_empty() || host.contains(['/', '@', '?', '#', '\\']) {
        return None;
    }
    origin_of(&format!("{protocol}://{host}/"))
}

fn origin_of(site: &str) -> Option<String> {
    let url = Url::parse(site).ok()?;
    let loopback = match url.host()? {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return None,
    }
    Some(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn origins_are_compared_as_urls() {
        assert_eq!(origin("https", "GitHub.com").as_deref(), Some("https://github.com"));
        assert_eq!(origin("https", "github.com:443").as_deref(), Some("https://github.com"));
        assert_eq!(origin("https", "git.example.com:8443").as_deref(), Some("https://git.example.com:8443"));
        assert_eq!(origin("http", "127.0.0.1:8080").as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn plaintext_and_odd_hosts_get_nothing() {
        assert_eq!(origin("http", "github.com"), None);
        assert_eq!(origin("ssh", "github.com"), None);
        assert_eq!(origin("https", "evil.example@github.com"), None);
        assert_eq!(origin("https", "github.com/path"), None);
        assert_eq!(origin("https", ""), None);
    }
}
