//! A device authorization endpoint's answer (RFC 8628 §3.2), as `connect --device`
//! reads it. The first byte picks the provider (low nibble, from DEVICE_PROVIDERS:
//! GitHub answers form-encoded and sends errors with HTTP 200) and the status and
//! Content-Type (high nibble, from ANSWERS); the rest is the body. The seeds use
//! printable selectors: '`'..'c' are a JSON 200 from each provider, 'q' GitHub's
//! form-encoded 200, '!' a 400 from GitHub.
#![no_main]

use std::time::Duration;

use grantkeeper_engine::fuzzing::{device_authorization_answer, DEVICE_PROVIDERS};
use libfuzzer_sys::fuzz_target;
use url::Host;

/// By high nibble, modulo 5.
const ANSWERS: &[(u16, &str)] = &[
    (200, "application/json"),
    (200, "application/x-www-form-urlencoded"),
    (400, "application/json; charset=utf-8"),
    (200, "text/html"),
    (503, "text/plain"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let provider = DEVICE_PROVIDERS[usize::from(selector & 0x0f) % DEVICE_PROVIDERS.len()];
    let (status, content_type) = ANSWERS[usize::from(selector >> 4) % ANSWERS.len()];
    let Ok(answer) = device_authorization_answer(provider, status, content_type, body) else { return };
    // The page is shown to the person: the provider's https page (http on loopback only).
    let url = &answer.verification_url;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    };
    assert!(url.scheme() == "https" || (url.scheme() == "http" && loopback), "{url}");
    assert!(!answer.user_code.chars().any(char::is_control), "{:?}", answer.user_code);
    // While polling, `slow_down` adds 5 s to the interval (RFC 8628 §3.5) and the flow
    // waits at most its 15-minute limit: an interval must leave room for both.
    assert!(
        answer.interval.checked_add(Duration::from_secs(5)).is_some_and(|i| i <= Duration::from_secs(3600)),
        "interval {:?}",
        answer.interval
    );
});
