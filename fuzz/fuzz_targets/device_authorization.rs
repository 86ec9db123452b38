//! A device authorization endpoint's answer (RFC 8628 §3.2), as `connect --device`
//! reads it. The first byte picks the provider (low nibble, from DEVICE_PROVIDERS:
//! GitHub answers form-encoded and sends errors with HTTP 200) and the status and
//! Content-Type (high nibble, from shared::ANSWERS); the rest is the body. The seeds:
//! '`'..'c' are a JSON 200 from each provider, 'q' GitHub's form-encoded 200, ' ' a 400
//! from Google.
#![no_main]

use std::time::Duration;

use grantkeeper_engine::fuzzing::{device_authorization_answer, DEVICE_PROVIDERS};
use libfuzzer_sys::fuzz_target;

#[path = "shared.rs"]
mod shared;

fuzz_target!(|data: &[u8]| {
    let Some(answer) = shared::parsed_provider_answer(data, DEVICE_PROVIDERS, device_authorization_answer)
    else {
        return;
    };
    // The page is shown to the person: the provider's https page (http on loopback only).
    let url = &answer.verification_url;
    assert!(shared::https_or_loopback_http(url), "{url}");
    assert!(!answer.user_code.chars().any(char::is_control), "{:?}", answer.user_code);
    // While polling, `slow_down` adds 5 s to the interval (RFC 8628 §3.5) and the flow
    // waits at most its 15-minute limit: an interval must leave room for both.
    assert!(
        answer.interval.checked_add(Duration::from_secs(5)).is_some_and(|i| i <= Duration::from_secs(3600)),
        "interval {:?}",
        answer.interval
    );
});
