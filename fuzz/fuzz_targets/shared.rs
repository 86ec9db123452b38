//! What several fuzz targets check or read the same way. Not a target of its own: each
//! target that needs it takes it in with `#[path = "shared.rs"] mod shared;`.
#![allow(dead_code)] // each target uses a different part

use url::{Host, Url};

/// A URL the engine may send a person or a request to: https, or http on loopback only.
pub fn https_or_loopback_http(url: &Url) -> bool {
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    };
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

/// The statuses and Content-Types an endpoint's answer comes with, picked by the first
/// byte's high nibble (modulo 6). Seeds use printable selectors: '`'..'o' a JSON 200,
/// 'p'..'\x7f' a form-encoded 200, ' '..'/' a 400, '0'..'?' a 401.
pub const ANSWERS: &[(u16, &str)] = &[
    (200, "application/json"),
    (200, "application/x-www-form-urlencoded"),
    (400, "application/json; charset=utf-8"),
    (401, "application/json"),
    (200, "text/html"),
    (201, "text/plain"),
];

/// An endpoint's answer read from a fuzz input and parsed by `parse`: the first byte picks
/// the provider (low nibble, from `providers`) and the status and Content-Type (high
/// nibble, from ANSWERS); the rest is the body. None for an empty input, or an answer
/// `parse` refuses (refusing is fine: the targets check only what is accepted).
pub fn parsed_provider_answer<T, E>(
    data: &[u8],
    providers: &[&'static str],
    parse: impl FnOnce(&str, u16, &str, &[u8]) -> Result<T, E>,
) -> Option<T> {
    let (&selector, body) = data.split_first()?;
    let provider = providers[usize::from(selector & 0x0f) % providers.len()];
    let (status, content_type) = ANSWERS[usize::from(selector >> 4) % ANSWERS.len()];
    parse(provider, status, content_type, body).ok()
}
