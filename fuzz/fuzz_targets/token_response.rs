//! A token endpoint's answer to a code exchange. The first byte picks the provider (low
//! nibble, from TOKEN_PROVIDERS: GitHub and Slack send errors with HTTP 200, GitHub may
//! answer form-encoded) and the status and Content-Type (high nibble, from
//! shared::ANSWERS); the rest is the body. The seeds: '`' and 'a'..'f' are a JSON 200
//! from each provider, 'p'..'v' a form-encoded 200, ' '..'&' a 400, '0'..'6' a 401.
#![no_main]

use grantkeeper_engine::fuzzing::{token_response, TOKEN_PROVIDERS};
use libfuzzer_sys::fuzz_target;

#[path = "shared.rs"]
mod shared;

fuzz_target!(|data: &[u8]| {
    let Some(grant) = shared::parsed_provider_answer(data, TOKEN_PROVIDERS, token_response) else {
        return;
    };
    assert!(!grant.access_token.is_empty(), "an empty access token was accepted");
    // credential/save.rs (GrantTimes) adds these lifetimes to the current time.
    let now = time::OffsetDateTime::now_utc();
    if let Some(lifetime) = grant.expires_in {
        let lifetime = time::Duration::try_from(lifetime).expect("expires_in fits a time::Duration");
        assert!(now.checked_add(lifetime).is_some(), "expires_in {lifetime} is past any date");
    }
    if let Some(lifetime) = grant.refresh_token_lifetime.and_then(|d| time::Duration::try_from(d).ok()) {
        assert!(now.checked_add(lifetime).is_some(), "refresh_token_expires_in {lifetime} is past any date");
    }
});
