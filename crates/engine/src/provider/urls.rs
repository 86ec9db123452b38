//! Which provider URLs Grantkeeper will talk to: https anywhere, plain http only to
//! this machine (local providers during development).

use std::net::IpAddr;

use url::{Host, Url};

use crate::{Error, Result};

/// [`provider_url`] or a stricter check, as `(field, label, text)`.
pub type UrlCheck = fn(&'static str, &str, &str) -> Result<Url>;

/// Far longer than any provider's address; longer text is something else pasted.
const URL_LIMIT: usize = 4096;

pub fn provider_url(field: &'static str, label: &str, text: &str) -> Result<Url> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid(field, format!("Enter the {label}.")));
    }
    if text.chars().count() > URL_LIMIT {
        return Err(Error::invalid(
            field,
            format!("The {label} is longer than any provider's ({URL_LIMIT} characters at most); check what you pasted."),
        ));
    }
    // The URL parser drops line breaks and tabs inside a URL: what was pasted with one
    // would be kept as another address.
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid(
            field,
            format!("The {label} contains a space or a line break; check what you pasted."),
        ));
    }
    let url = Url::parse(text).map_err(|_| {
        Error::invalid(
            field,
            format!("The {label} is not a valid URL; it should look like https://example.com/…"),
        )
    })?;
    if url.port() == Some(0) {
        return Err(Error::invalid(field, format!("The {label} names port 0, where no server can be.")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(field, format!("The {label} must not contain a user name or password.")));
    }
    if url.fragment().is_some() {
        return Err(Error::invalid(field, format!("The {label} must not contain a #fragment.")));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::invalid(
            field,
            format!(
                "The {label} must use https (plain http is allowed only for 127.0.0.1, [::1] or localhost)."
            ),
        )),
        _ => Err(Error::invalid(field, format!("The {label} must start with https://."))),
    }
}

/// An issuer identifier: a [`provider_url`] without a query either (OpenID Connect
/// Discovery §2, RFC 8414 §2), since the address of its metadata is made from it.
pub fn issuer_url(field: &'static str, label: &str, text: &str) -> Result<Url> {
    let url = provider_url(field, label, text)?;
    if url.query().is_some() {
        return Err(Error::invalid(
            field,
            format!("The {label} must not contain a query (?…): an issuer has none. Remove it from the URL."),
        ));
    }
    Ok(url)
}

/// Where a client ID metadata document is published, which is also the client ID: a
/// [`provider_url`] with a path of its own and no query, as the draft (OAuth Client ID
/// Metadata Document §3) asks of a client ID.
pub fn client_id_document_url(field: &'static str, label: &str, text: &str) -> Result<Url> {
    let url = provider_url(field, label, text)?;
    if url.path() == "/" || url.query().is_some() {
        return Err(Error::invalid(
            field,
            format!("The {label} needs a path of its own and no query (?…), such as https://example.com/grantkeeper.json."),
        ));
    }
    Ok(url)
}

/// What an authorization request sets itself (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID
/// Connect Core §3.1.2.1). An authorize URL whose query already names one would send it
/// twice, which RFC 6749 §3.1 forbids; which of the two a server heeds is its own pick.
const AUTHORIZATION_REQUEST_PARAMETERS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

/// An authorize endpoint: a [`provider_url`] whose query sets none of the parameters
/// Grantkeeper sends (its other query parameters are kept, as §3.1 asks).
pub fn authorize_endpoint(field: &'static str, label: &str, text: &str) -> Result<Url> {
    let url = provider_url(field, label, text)?;
    let own = url
        .query_pairs()
        .find_map(|(name, _)| AUTHORIZATION_REQUEST_PARAMETERS.into_iter().find(|own| *own == name));
    match own {
        Some(name) => Err(Error::invalid(
            field,
            format!("The {label} sets “{name}” in its query, which Grantkeeper sends itself. Remove it from the URL."),
        )),
        None => Ok(url),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Url> {
        provider_url("issuer", "issuer URL", text)
    }

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(check("https://accounts.example.com").is_ok());
        assert!(check("http://127.0.0.1:8080").is_ok());
        assert!(check("http://127.5.5.5").is_ok());
        assert!(check("http://[::1]:9000/x").is_ok());
        assert!(check("http://localhost:3000").is_ok());
        assert!(check("http://example.com").is_err());
        assert!(check("http://127.0.0.1.example.com").is_err());
        assert!(check("http://10.0.0.1").is_err());
        assert!(check("ftp://example.com").is_err());
        assert!(check("javascript:alert(1)").is_err());
    }

    #[test]
    fn a_client_id_document_has_a_path_and_no_query() {
        let check = |text| client_id_document_url("url", "URL", text);
        assert!(check("https://example.org/grantkeeper.json").is_ok());
        assert!(check("https://example.org").is_err());
        assert!(check("https://example.org/").is_err());
        assert!(check("https://example.org/c.json?x=1").is_err());
    }

    #[test]
    fn a_line_break_or_port_zero_is_refused_not_dropped() {
        let broken = check("https://a.example/auth\nX: y").unwrap_err().to_string();
        assert!(broken.contains("a space or a line break"), "{broken}");
        assert!(check("https://a.example/a\tb").is_err());
        assert!(check("https://a.example/a b").is_err());
        assert!(check(" https://a.example/ab \n").is_ok(), "only what is around it is trimmed");
        assert!(check("https://a.example:0/auth").unwrap_err().to_string().contains("port 0"));
    }

    #[test]
    fn an_authorize_endpoint_keeps_its_own_query_but_not_the_request_s_parameters() {
        let kept =
            authorize_endpoint("authorize_url", "authorize URL", "https://a.example/auth?tenant=x&prompt=1");
        assert_eq!(kept.unwrap().query(), Some("tenant=x&prompt=1"));
        for own in
            ["response_type=token", "client_id=evil", "redirect_uri=https%3A%2F%2Fevil", "scope=", "state"]
        {
            let text = format!("https://a.example/auth?x=1&{own}");
            let error = authorize_endpoint("authorize_url", "authorize URL", &text).unwrap_err();
            assert_eq!(error.field(), Some("authorize_url"), "{own}");
            let name = own.split('=').next().unwrap();
            assert!(error.to_string().contains(&format!("sets “{name}”")), "{error}");
        }
    }

    #[test]
    fn rejects_empty_garbage_credentials_and_fragments() {
        let long = format!("https://example.com/{}", "a".repeat(URL_LIMIT));
        for bad in ["", "   ", "not a url", "https://user:pw@example.com", "https://example.com/#x", &long] {
            let error = check(bad).unwrap_err();
            assert_eq!(error.field(), Some("issuer"), "{bad:.40}");
        }
        assert!(check(&long).unwrap_err().to_string().contains("longer than any provider's"));
    }

    #[test]
    fn an_issuer_has_no_query() {
        assert!(issuer_url("issuer", "issuer URL", "https://sso.example.com/realms/a").is_ok());
        let error = issuer_url("issuer", "issuer URL", "https://sso.example.com/?tenant=a").unwrap_err();
        assert_eq!(error.field(), Some("issuer"));
        assert!(error.to_string().contains("must not contain a query"), "{error}");
    }
}
