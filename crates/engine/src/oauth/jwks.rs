//! Providers' signing keys (JWKS documents), kept between sign-ins for as long as the
//! provider's `Cache-Control` allows, and fetched again when the kept ones refuse an ID
//! token: how providers rotate keys (OpenID Connect Core §10.1.1).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use super::id_token::{IdTokenError, SigningKeys};
use crate::http::HttpClient;
use crate::provider::ProviderRecord;
use crate::{Error, Result};

/// How long a document that says nothing of its freshness is kept.
const UNSAID: Duration = Duration::from_secs(5 * 60);
/// The longest any document is kept, whatever it says.
const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// Kept documents by JWKS URL: public keys, so one set serves every engine in the
/// process.
static KEPT: LazyLock<Mutex<HashMap<String, Kept>>> = LazyLock::new(Mutex::default);

struct Kept {
    keys: Arc<SigningKeys>,
    fresh_until: Instant,
}

/// Checks a sign-in's ID token with `check`: against the kept keys while fresh, and
/// against the provider's current ones when there are none or they fail it (it may be
/// signed with a key published since, whether or not its header names the key).
pub(crate) async fn check_with_keys<E>(
    provider: &ProviderRecord,
    http: &HttpClient,
    check: impl Fn(&SigningKeys) -> std::result::Result<(), E>,
) -> Result<std::result::Result<(), E>> {
    let url = jwks_url(provider, http).await?;
    let kept = lock().get(url.as_str()).filter(|k| k.fresh_until > Instant::now()).map(|k| k.keys.clone());
    if let Some(keys) = kept {
        if check(&keys).is_ok() {
            return Ok(Ok(()));
        }
        tracing::info!(provider = %provider.id, "kept signing keys refused an ID token; fetching them again");
    }
    let keys = fetch_from(&url, provider, http).await?;
    Ok(check(&keys))
}

/// The provider's signing keys as published now, kept for next time. A refresh fetches
/// them before its refresh token leaves: the refreshed ID token, signed perhaps with a
/// key published since, must be checkable, or the rotated refresh token that came with
/// it would be lost.
pub(crate) async fn current_signing_keys(
    provider: &ProviderRecord,
    http: &HttpClient,
) -> Result<Arc<SigningKeys>> {
    let url = jwks_url(provider, http).await?;
    fetch_from(&url, provider, http).await
}

/// Where the provider publishes its keys. A custom provider added before its JWKS URL
/// was kept finds it by discovery.
async fn jwks_url(provider: &ProviderRecord, http: &HttpClient) -> Result<Url> {
    let no_keys = || Error::ProviderError {
        provider: provider.name.clone(),
        detail: "its OpenID configuration names no signing keys (jwks_uri)".into(),
    };
    let url = match (&provider.endpoints.jwks_url, &provider.issuer) {
        (Some(url), _) => url.clone(),
        (None, Some(issuer)) => {
            let issuer =
                Url::parse(issuer).map_err(|_| Error::Internal("a stored issuer is not a URL".into()))?;
            crate::provider::discover(http, &issuer).await?.endpoints.jwks_url.ok_or_else(no_keys)?
        }
        (None, None) => return Err(no_keys()),
    };
    Url::parse(&url).map_err(|_| Error::Internal("a JWKS URL is not a URL".into()))
}

async fn fetch_from(url: &Url, provider: &ProviderRecord, http: &HttpClient) -> Result<Arc<SigningKeys>> {
    let request = http::Request::get(url.as_str())
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| Error::Internal(format!("a JWKS request: {e}")))?;
    let response =
        http.execute(request).await.map_err(|e| e.for_provider(url, &provider.name, "signing keys"))?;
    let refused = |detail: String| Error::ProviderError {
        provider: provider.name.clone(),
        detail: IdTokenError::Refused(detail).to_string(),
    };
    if response.status() != http::StatusCode::OK {
        return Err(refused(format!("its signing keys (JWKS) answered HTTP {}", response.status().as_u16())));
    }
    let keys = Arc::new(SigningKeys::from_document(response.body()).map_err(|e| refused(e.to_string()))?);
    let fresh_for = freshness(response.headers());
    if !fresh_for.is_zero() {
        let kept = Kept { keys: keys.clone(), fresh_until: Instant::now() + fresh_for };
        lock().insert(url.to_string(), kept);
    }
    Ok(keys)
}

/// How long an answer may be used (RFC 9111 §4.2): its `max-age` less its `Age`;
/// nothing for `no-store` or `no-cache`; [`UNSAID`] where it says neither; at most
/// [`LONGEST`].
fn freshness(headers: &http::HeaderMap) -> Duration {
    let directives: Vec<String> = headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|directive| directive.trim().to_ascii_lowercase())
        .collect();
    if directives.iter().any(|d| d == "no-store" || d == "no-cache") {
        return Duration::ZERO;
    }
    let max_age = directives.iter().find_map(|d| d.strip_prefix("max-age=")?.trim_matches('"').parse().ok());
    let Some(max_age) = max_age.map(Duration::from_secs) else { return UNSAID };
    let age = headers
        .get(http::header::AGE)
        .and_then(|value| value.to_str().ok()?.trim().parse().ok())
        .map_or(Duration::ZERO, Duration::from_secs);
    max_age.saturating_sub(age).min(LONGEST)
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<String, Kept>> {
    KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        pairs.iter().map(|(name, value)| (name.parse().unwrap(), value.parse().unwrap())).collect()
    }

    #[test]
    fn freshness_follows_cache_control_less_age_and_is_capped() {
        assert_eq!(freshness(&headers(&[])), UNSAID);
        let google = [("cache-control", "public, max-age=19845, must-revalidate, no-transform")];
        assert_eq!(freshness(&headers(&google)), Duration::from_secs(19845));
        let aged = [("cache-control", "max-age=600"), ("age", "100")];
        assert_eq!(freshness(&headers(&aged)), Duration::from_secs(500));
        let older = [("cache-control", "max-age=600"), ("age", "900")];
        assert_eq!(freshness(&headers(&older)), Duration::ZERO);
        assert_eq!(freshness(&headers(&[("cache-control", "max-age=31536000")])), LONGEST);
        assert_eq!(freshness(&headers(&[("cache-control", "private, No-Cache")])), Duration::ZERO);
        assert_eq!(freshness(&headers(&[("cache-control", "no-store, max-age=60")])), Duration::ZERO);
        assert_eq!(freshness(&headers(&[("cache-control", "max-age=soon")])), UNSAID);
    }
}
