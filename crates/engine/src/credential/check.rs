//! "Test connection": a cheap authenticated request that proves a credential works,
//! as each integration's catalog entry describes it.

use std::borrow::Cow;

use crate::api::CheckResult;
use crate::catalog::template::{fill, json_field};
use crate::catalog::{Catalog, CheckAuth, CheckSpec, HttpMethod};
use crate::http::HttpClient;
use crate::provider::{provider_url, ProviderRecord};
use crate::store::CredentialKind;
use crate::{Error, Result, Secret};

/// How a check ended.
pub(crate) enum Checked {
    Accepted {
        account: Option<String>,
    },
    /// 401, or Slack's `ok: false`: the credential is not (or no longer) accepted.
    Rejected {
        status: u16,
    },
    /// 403: the credential was recognised, but may not make this request (RFC 6750
    /// §3.1; a restricted Stripe key, an OpenAI project key with limited permissions).
    Limited {
        status: u16,
    },
}

/// The check for an integration, when it has one.
pub(crate) fn check_of(integration_id: &str) -> Option<&'static CheckSpec> {
    Catalog::builtin().integration_by_id(integration_id).and_then(|spec| spec.check.as_ref())
}

/// Runs `check`, filling its templates from `values` and authenticating with
/// `bearer` where it says Bearer.
pub(crate) async fn run_check(
    http: &HttpClient,
    check: &CheckSpec,
    values: &(dyn Fn(&str) -> Option<String> + Sync),
    bearer: &Secret,
    service: &str,
) -> Result<(Checked, String)> {
    let unfilled = || Error::Internal(format!("the check of {service} names a value it does not have"));
    let fill_in = |template: &str| fill(template, values).ok_or_else(unfilled);
    let url = provider_url("check_url", "check URL", &fill_in(&check.url)?)?;
    let method = match check.method {
        HttpMethod::Get => http::Method::GET,
        HttpMethod::Post => http::Method::POST,
    };
    let mut request =
        http::Request::builder().method(method).uri(url.as_str()).header("accept", "application/json");
    let authorization = match &check.auth {
        CheckAuth::Bearer => Some(("authorization".to_owned(), format!("Bearer {}", bearer.expose()))),
        CheckAuth::Basic { username, password } => {
            use base64::Engine as _;
            let pair = format!("{}:{}", fill_in(username)?, fill_in(password)?);
            Some((
                "authorization".to_owned(),
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)),
            ))
        }
        CheckAuth::Header { name, value } => Some((name.clone(), fill_in(value)?)),
    };
    for (name, value) in
        authorization.into_iter().chain(check.headers.iter().map(|(k, v)| (k.clone(), v.clone())))
    {
        request = request.header(name, value);
    }
    if check.body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = check.body.clone().unwrap_or_default().into_bytes();
    let request = request.body(body).map_err(|e| Error::Internal(format!("check request: {e}")))?;
    let response = http
        .execute(request)
        .await
        .map_err(|error| error.for_provider(&url, service, "answer to the check"))?;
    let status = response.status().as_u16();
    Ok((
        checked(check, status, response.body(), service).map_err(|e| not_found_at(e, check, status))?,
        url.to_string(),
    ))
}

/// A check that is not found where a service's address was given: the address most
/// likely repeats the path the check adds (an OpenAI-style `…/v1`).
fn not_found_at(error: Error, check: &CheckSpec, status: u16) -> Error {
    match (error, check.url.strip_prefix("{base_url}")) {
        (Error::ProviderError { provider, detail }, Some(added)) if status == 404 => {
            let added = added.split('?').next().unwrap_or_default();
            Error::ProviderError {
                provider,
                detail: format!(
                    "{detail} (Not Found). The check adds {added} to the service's address: give the address without it (--base-url)"
                ),
            }
        }
        (error, _) => error,
    }
}

/// What a check's answer says.
fn checked(check: &CheckSpec, status: u16, body: &[u8], service: &str) -> Result<Checked> {
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match status {
        401 => Ok(Checked::Rejected { status }),
        403 => Ok(Checked::Limited { status }),
        // Slack's Web API says no with HTTP 200 and `ok: false`.
        200..=299 if body.get("ok") == Some(&serde_json::Value::Bool(false)) => {
            Ok(Checked::Rejected { status })
        }
        200..=299 => Ok(Checked::Accepted {
            account: check
                .account
                .as_deref()
                .and_then(|template| fill(template, |field: &str| json_field(&body, field)))
                .map(|account| crate::error::provider_text(&account)),
        }),
        _ => Err(Error::ProviderError {
            provider: service.to_owned(),
            detail: format!("its check answered HTTP {status}"),
        }),
    }
}

/// A connection's check: its integration's, or else the provider's userinfo endpoint.
fn check_for(integration_id: &str, provider: &ProviderRecord) -> Result<Cow<'static, CheckSpec>> {
    match (check_of(integration_id), &provider.endpoints.userinfo_url) {
        (Some(check), _) => Ok(Cow::Borrowed(check)),
        (None, Some(userinfo)) => Ok(Cow::Owned(CheckSpec {
            url: userinfo.clone(),
            method: HttpMethod::Get,
            body: None,
            auth: CheckAuth::Bearer,
            headers: Default::default(),
            account: Some("{email}".into()),
        })),
        (None, None) => Err(Error::InvalidInput {
            field: None,
            message: format!("{} has no endpoint Grantkeeper can test the connection with.", provider.name),
        }),
    }
}

impl crate::Engine {
    /// Runs the connection's check with a fresh token. A provider that no longer takes
    /// the access token gets one refresh (the refresh engine decides whether the grant
    /// is gone); an API key the service refuses moves the connection to Reauthorize.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn test_connection(&self, key: &str) -> Result<CheckResult> {
        let connection = self.connection(key)?;
        let credential = self.store.credential(&self.store.credential_id_of(&connection.id)?)?;
        if let CredentialKind::ApiKey { fields } = &credential.kind {
            return self.test_api_key(&connection, &credential, fields).await;
        }
        let provider = self.signed_in_provider(&credential)?;
        let check = check_for(&connection.integration, &provider)?;
        let userinfo = provider.endpoints.userinfo_url.clone();
        let values = move |field: &str| if field == "userinfo_url" { userinfo.clone() } else { None };
        for attempt in 0..2 {
            let (_, token) = self.access_token(&connection.id, std::time::Duration::from_secs(60)).await?;
            let http = provider.http(&self.http);
            let (checked, url) = run_check(&http, &check, &values, &token, &provider.name).await?;
            match checked {
                Checked::Accepted { account } => {
                    return Ok(CheckResult {
                        connection: connection.name.clone(),
                        account,
                        url,
                        limited: None,
                    })
                }
                Checked::Limited { status } => {
                    return Ok(CheckResult {
                        connection: connection.name.clone(),
                        account: None,
                        url,
                        limited: Some(status),
                    })
                }
                Checked::Rejected { status } if attempt == 0 => {
                    tracing::info!(status, "the check refused the access token; refreshing");
                    let current = self.store.credential(&credential.id)?;
                    let has_refresh = self
                        .vault
                        .read_tokens(&current.token_secret_key)
                        .await?
                        .is_some_and(|tokens| tokens.refresh_token.is_some());
                    if !has_refresh {
                        let reason =
                            format!("{} no longer accepts its access token (HTTP {status})", provider.name);
                        return self.needs_reauthorization(&connection, &current, &reason);
                    }
                    self.refresh_now(&connection.id).await?;
                }
                Checked::Rejected { status } => {
                    return Err(Error::ProviderError {
                        provider: provider.name.clone(),
                        detail: format!("the check still answered HTTP {status} with a fresh token"),
                    })
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }
}
