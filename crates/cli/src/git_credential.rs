//! `grantkeeper git-credential get|store|erase`: git's credential helper protocol
//! (gitcredentials(7)): `key=value` lines on stdin up to a blank line or the end, and for
//! `get` the same on stdout. git never gets a token for a host no connection serves.

use std::io::Read;

use grantkeeper_engine::git_credentials::{GitCredential, GitCredentialRequest, GIT_MIN_TTL};
use grantkeeper_engine::{ConnectionStatus, Engine, Error, Result, Secret};

use crate::args::GitOperation;

pub async fn run(engine: &Engine, operation: GitOperation) -> Result<()> {
    let request = read_request(std::io::stdin())?;
    match operation {
        GitOperation::Store => unreachable!("answered before the engine opened"),
        GitOperation::Get => {
            let Some((connection, username)) = engine.git_account(&request)? else {
                return Ok(()); // not ours: git asks its next helper or the person
            };
            // Through the token agent: git is the program asking.
            let (connection, password) =
                crate::agent::token(engine, &connection.id, GIT_MIN_TTL, &[], false).await?;
            let credential = GitCredential::new(username, connection, password);
            let mut answer = format!(
                "protocol={}\nhost={}\nusername={}\npassword={}\n",
                request.protocol,
                request.host,
                credential.username,
                credential.password.expose()
            );
            if let Some(expiry) = credential.password_expiry_utc {
                answer.push_str(&format!("password_expiry_utc={expiry}\n"));
            }
            crate::output::bytes(answer.as_bytes())
        }
        GitOperation::Erase => {
            if let Some(connection) = engine.git_credential_rejected(&request).await? {
                if connection.status == ConnectionStatus::Reauthorize {
                    eprintln!(
                        "grantkeeper: {} needs you to sign in again: grantkeeper reconnect \"{}\"",
                        connection.provider, connection.name
                    );
                }
            }
            Ok(())
        }
    }
}

/// Parses what git sends. `protocol` and `host` are required (git always sends them);
/// `url=` alone is also understood, as `git credential fill` accepts it.
fn read_request(input: impl Read) -> Result<GitCredentialRequest> {
    let text = crate::stdin::read_to_blank_line(input, "stdin", "git's request")?;
    let mut request = GitCredentialRequest::default();
    let mut url = None;
    for (number, line) in text.lines().enumerate() {
        if line.is_empty() {
            break;
        }
        // Not quoted back: a line that is not git's may hold anything, a secret included.
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::invalid(
                "stdin",
                format!(
                    "Line {} of git's request is not a key=value line as git sends them (gitcredentials(7)).",
                    number + 1
                ),
            ));
        };
        match key {
            "protocol" => request.protocol = value.to_owned(),
            "host" => request.host = value.to_owned(),
            "username" => request.username = Some(value.to_owned()),
            "password" => request.password = Some(Secret::new(value)),
            "url" => url = Some(value.to_owned()),
            _ => {} // path, capability[], wwwauth[]...: nothing to decide on
        }
    }
    if let (true, Some(url)) = (request.host.is_empty(), url) {
        let url = url::Url::parse(&url)
            .map_err(|_| Error::invalid("url", "git's url= is not a URL.".to_owned()))?;
        request.protocol = url.scheme().to_owned();
        request.host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        if !url.username().is_empty() && request.username.is_none() {
            request.username = Some(url.username().to_owned());
        }
    }
    if request.protocol.is_empty() || request.host.is_empty() {
        return Err(Error::invalid("stdin", "git's request names no protocol and host.".to_owned()));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::read_request;

    #[test]
    fn reads_what_git_sends_up_to_the_blank_line() {
        let request = read_request(
            "protocol=https\nhost=gitlab.com\nusername=ada\npath=x.git\ncapability[]=authtype\n\nhost=evil\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!((request.protocol.as_str(), request.host.as_str()), ("https", "gitlab.com"));
        assert_eq!(request.username.as_deref(), Some("ada"));
    }

    /// Gives its bytes once, then fails the test if read again.
    struct OnceThenNever<'a>(Option<&'a [u8]>);

    impl std::io::Read for OnceThenNever<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let bytes = self.0.take().expect("read past the blank line: its writer would be waited for");
            buffer[..bytes.len()].copy_from_slice(bytes);
            Ok(bytes.len())
        }
    }

    #[test]
    fn a_request_ends_at_its_blank_line_while_the_pipe_stays_open() {
        let request =
            read_request(OnceThenNever(Some(b"protocol=https\r\nhost=github.com\r\n\r\n"))).unwrap();
        assert_eq!((request.protocol.as_str(), request.host.as_str()), ("https", "github.com"));
    }

    #[test]
    fn a_url_alone_is_decomposed() {
        let request = read_request("url=https://bob@git.example.com:8443/a/b.git\n".as_bytes()).unwrap();
        assert_eq!(request.host, "git.example.com:8443");
        assert_eq!(request.username.as_deref(), Some("bob"));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let error = read_request("hello\n".as_bytes()).unwrap_err().to_string();
        assert!(error.contains("key=value"), "{error}");
        assert!(read_request("username=ada\n".as_bytes()).is_err());
        let pasted = read_request("protocol=https\nghp_canary123\n".as_bytes()).unwrap_err().to_string();
        assert!(pasted.contains("Line 2") && !pasted.contains("canary"), "{pasted}");
    }

    #[test]
    fn a_request_longer_than_git_sends_is_refused_not_cut() {
        // Cut at the limit, this would read as a request for github.com.
        let padding = format!("path={}\n", "a".repeat(64 * 1024 - 36));
        let long = format!("protocol=https\n{padding}host=github.com.evil.example\n");
        let error = read_request(long.as_bytes()).unwrap_err().to_string();
        assert!(error.contains("more than 64 KiB"), "{error}");
    }
}
