//! The body an issuer serves at /.well-known/openid-configuration (OpenID Connect
//! Discovery 1.0), as the engine reads it when a custom provider is added.
#![no_main]

use std::sync::LazyLock;

use grantkeeper_engine::fuzzing::discovery_document;
use libfuzzer_sys::fuzz_target;
use url::Url;

#[path = "shared.rs"]
mod shared;

static ISSUER: LazyLock<Url> = LazyLock::new(|| Url::parse("https://login.example.com/tenant-1").unwrap());

fuzz_target!(|body: &[u8]| {
    let Ok(discovered) = discovery_document(&ISSUER, body) else { return };
    assert_eq!(discovered.issuer.trim_end_matches('/'), ISSUER.as_str().trim_end_matches('/'));
    let endpoints = &discovered.endpoints;
    let urls = [
        Some(&endpoints.authorize_url),
        Some(&endpoints.token_url),
        endpoints.userinfo_url.as_ref(),
        endpoints.revocation_url.as_ref(),
        endpoints.jwks_url.as_ref(),
        endpoints.device_authorization_url.as_ref(),
    ];
    for url in urls.into_iter().flatten() {
        let url = Url::parse(url).expect("discovery keeps only URLs");
        assert!(shared::https_or_loopback_http(&url), "{url}");
        assert!(url.username().is_empty() && url.password().is_none() && url.fragment().is_none(), "{url}");
    }
});
