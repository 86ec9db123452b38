//! Which provider URLs Grantkeeper will talk to: https anywhere, plain http only to
//! this machine (local providers during development).

use std::net::IpAddr;

use url::{Host, Url};

use crate::{Error, Result};

pub fn provider_url(field: &'static str, label: &str, text: &str) -> Result<Url> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid(field, format!("Enter the {label}.")));
    }
    let url = Url::parse(text).map_err(|_| {
        Error::invalid(
            field,
            format!("The {label} is not a valid URL; it should look like https://example.com/…"),
        )
    })?;
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
    fn rejects_empty_garbage_credentials_and_fragments() {
        for bad in ["", "   ", "not a url", "https://user:pw@example.com", "https://example.com/#x"] {
            let error = check(bad).unwrap_err();
            assert_eq!(error.field(), Some("issuer"), "{bad}");
        }
    }
}
