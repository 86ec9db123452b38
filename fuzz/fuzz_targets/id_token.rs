//! ID tokens and the JWKS documents whose keys sign them (OpenID Connect Core §3.1.3.7,
//! §12.2; RFC 7517), as a sign-in or a refresh checks them. The first byte picks the
//! provider (low two bits, from ID_TOKEN_PROVIDERS), whether the provider app has a
//! client secret (HS256, bit 2) and sign-in or refresh (bit 3); then comes the JWKS
//! document, a NUL byte, and the ID token. The seeds use '@' (Google, sign-in), 'A'
//! (Microsoft; its keys name the issuer they sign for), 'B' (custom), 'F' (custom with a client secret), 'H' (Google, refresh),
//! 'J' (custom, refresh); their tokens are signed with a fuzz-only key in the seed.
#![no_main]

use grantkeeper_engine::fuzzing::{id_token, ID_TOKEN_PROVIDERS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let provider = ID_TOKEN_PROVIDERS[usize::from(selector & 0b11) % ID_TOKEN_PROVIDERS.len()];
    let (jwks, token) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(token) = std::str::from_utf8(token) else { return };
    // Refusals are expected; the checks must not panic or hang, and never accept an
    // unsigned token (`alg: none`, an empty signature).
    if id_token(provider, jwks, token, selector & 0b100 != 0, selector & 0b1000 != 0).is_ok() {
        let signature = token.rsplit('.').next().unwrap_or_default();
        assert!(token.split('.').count() == 3 && !signature.is_empty(), "an unsigned token was accepted");
    }
});
