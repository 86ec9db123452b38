//! Learning which account signed in: from the provider's API, the token response or
//! the ID token, as the provider's catalog entry says.

use base64::Engine as _;
use serde::Deserialize;
use url::Url;

use super::grant::Grant;
use crate::catalog::template::{fill, json_field};
use crate::catalog::{HttpMethod, IdentitySource, IdentitySpec};
use crate::error::provider_text;
use crate::http::HttpClient;
use crate::provider::ProviderRecord;
use crate::vault::TokenSet;
use crate::{Error, Result};

/// The signed-in account: a stable subject and a name a person recognises.
#[derive(Clone)]
pub struct Identity {
    pub subject: String,
    pub account: Option<String>,
}

/// How the subject of a grant whose account could not be learnt begins.
const UNKNOWN_SUBJECT: &str = "unknown:";

impl Identity {
    /// The provider did not say which account signed in (no userinfo, no ID token): the
    /// grant is its own credential.
    pub(crate) fn unknown() -> Identity {
        Identity { subject: format!("{UNKNOWN_SUBJECT}{}", uuid::Uuid::new_v4()), account: None }
    }

    /// The provider said which account signed in.
    pub fn is_known(&self) -> bool {
        names_an_account(&self.subject)
    }

    /// Whether this sign-in may renew the credential of `subject`: the same account, or
    /// both unknown (nothing tells them apart; the person chose that connection).
    pub fn may_renew(&self, subject: &str) -> bool {
        self.subject == subject
            || (self.subject.starts_with(UNKNOWN_SUBJECT) && subject.starts_with(UNKNOWN_SUBJECT))
    }
}

/// Whether a credential's `subject` names its account, rather than standing in for one
/// the provider did not name.
pub(crate) fn names_an_account(subject: &str) -> bool {
    !subject.starts_with(UNKNOWN_SUBJECT)
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    email: Option<String>,
    preferred_username: Option<String>,
    login: Option<String>,
}

impl Claims {
    fn identity(self) -> Option<Identity> {
        let subject = self.sub?;
        let account = self.email.or(self.preferred_username).or(self.login).or_else(|| Some(subject.clone()));
        Some(Identity { subject, account })
    }
}

pub async fn identity(provider: &ProviderRecord, grant: &Grant, http: &HttpClient) -> Result<Identity> {
    let http = &provider.http(http);
    let identity = match provider.spec {
        Some(spec) => identity_by_spec(provider, &spec.identity, grant, http).await?,
        None => oidc_identity(provider, &grant.tokens, http).await?,
    };
    // Stored, then shown in terminals and the window: what the provider said, made safe
    // to print once (after the checks that compare it with the ID token).
    Ok(Identity {
        subject: provider_text(&identity.subject),
        account: identity.account.map(|account| provider_text(&account)),
    })
}

/// The account as the catalog says to learn it: from the provider's API, the token
/// response or the ID token.
async fn identity_by_spec(
    provider: &ProviderRecord,
    spec: &IdentitySpec,
    grant: &Grant,
    http: &HttpClient,
) -> Result<Identity> {
    let document = match spec.source {
        IdentitySource::TokenResponse => serde_json::Value::Object(grant.extras.fields.clone()),
        IdentitySource::IdToken => checked_id_token(provider, &grant.tokens)
            .and_then(|token| id_token_payload(token.expose()))
            .ok_or_else(|| Error::ProviderError {
                provider: provider.name.clone(),
                detail: "its sign-in answer has no ID token to say which account signed in".into(),
            })?,
        IdentitySource::Api => {
            let url = provider.endpoints.userinfo_url.as_deref().expect("the catalog names an identity URL");
            let url = Url::parse(url).expect("validated when stored");
            let bearer = Some(grant.tokens.access_token.expose());
            let (status, body) = http
                .send_json(spec.method == HttpMethod::Post, &url, bearer, spec.body.as_deref())
                .await
                .map_err(|e| e.for_provider(&url, &provider.name, "identity answer"))?;
            let document: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            // Slack's Web API answers errors with HTTP 200 and `ok: false`.
            if status != 200 || document.get("ok") == Some(&serde_json::Value::Bool(false)) {
                return Err(Error::ProviderError {
                    provider: provider.name.clone(),
                    detail: format!("its identity endpoint answered HTTP {status}"),
                });
            }
            document
        }
    };
    if spec.source == IdentitySource::Api {
        require_userinfo_subject(provider, &grant.tokens, document.get("sub").and_then(|s| s.as_str()))?;
    }
    let value_of = |field: &str| json_field(&document, field);
    let subject = fill(&spec.subject, value_of).ok_or_else(|| Error::ProviderError {
        provider: provider.name.clone(),
        detail: "its answer does not say which account signed in".into(),
    })?;
    if let Some(claim) = &spec.id_token_claim {
        require_id_token_account(provider, &grant.tokens, claim, &subject)?;
    }
    let account = spec.account.iter().find_map(|template| fill(template, value_of));
    Ok(Identity { subject, account })
}

/// A custom (OpenID Connect) provider: userinfo, else the id_token's claims.
async fn oidc_identity(provider: &ProviderRecord, tokens: &TokenSet, http: &HttpClient) -> Result<Identity> {
    // A resource's token is for the resource, not for the authorization server's userinfo.
    let userinfo = provider.endpoints.userinfo_url.as_ref().filter(|_| provider.resource.is_none());
    if let Some(userinfo) = userinfo {
        let url = Url::parse(userinfo).expect("validated when stored");
        let (status, body) = http
            .get_json(&url, Some(tokens.access_token.expose()))
            .await
            .map_err(|e| e.for_provider(&url, &provider.name, "userinfo answer"))?;
        if status != 200 {
            return Err(Error::ProviderError {
                provider: provider.name.clone(),
                detail: format!("its userinfo endpoint answered HTTP {status}"),
            });
        }
        if let Some(identity) = serde_json::from_slice::<Claims>(&body).ok().and_then(Claims::identity) {
            require_userinfo_subject(provider, tokens, Some(&identity.subject))?;
            return Ok(identity);
        }
    }
    if let Some(identity) = checked_id_token(provider, tokens)
        .and_then(|t| id_token_claims(t.expose()))
        .and_then(Claims::identity)
    {
        return Ok(identity);
    }
    Ok(Identity::unknown())
}

/// OpenID Connect Core §5.3.2: a userinfo answer (one with a `sub`) must be about the
/// account the sign-in's ID token names, or it may describe someone else (a token
/// substitution). Applies where that ID token was checked ([`Grant::of_sign_in`]),
/// which happens before the account is learnt.
fn require_userinfo_subject(
    provider: &ProviderRecord,
    tokens: &TokenSet,
    userinfo_subject: Option<&str>,
) -> Result<()> {
    let Some(userinfo_subject) = userinfo_subject else { return Ok(()) };
    require_id_token_account(provider, tokens, "sub", userinfo_subject)
}

/// The account a provider's identity answer names must be the one the sign-in's checked
/// ID token names in `claim`: `sub` for userinfo; for an API that is not userinfo
/// (Microsoft Graph `/me`, GitLab `/api/v4/user`), the claim the catalog names
/// (`identity.id_token_claim`). Nothing to compare without a checked ID token.
fn require_id_token_account(
    provider: &ProviderRecord,
    tokens: &TokenSet,
    claim: &str,
    account: &str,
) -> Result<()> {
    let Some(id_token) = checked_id_token(provider, tokens) else {
        return Ok(());
    };
    let named = id_token_payload(id_token.expose()).and_then(|payload| json_field(&payload, claim));
    if !named.is_some_and(|named| same_account_id(&named, account)) {
        return Err(Error::ProviderError {
            provider: provider.name.clone(),
            detail: "its userinfo answer names another account than its ID token; nothing was saved".into(),
        });
    }
    Ok(())
}

/// Whether the ID token's account id `named` is the API's `account`: the same, or a
/// personal Microsoft account's, whose `oid` is its 16-hex Graph id written as a GUID
/// (`00000000-0000-0000-fde9-26f844473904` for `fde926f844473904`).
fn same_account_id(named: &str, account: &str) -> bool {
    if named == account {
        return true;
    }
    let Some(hex) = named.strip_prefix("00000000-0000-0000-") else { return false };
    let hex = hex.replacen('-', "", 1);
    hex.len() == 16 && hex.chars().all(|c| c.is_ascii_hexdigit()) && hex.eq_ignore_ascii_case(account)
}

/// Only an ID token that was checked at sign-in (signature, issuer, audience, nonce) may
/// say who signed in; one from a provider whose issuer is not known was not.
fn checked_id_token<'a>(provider: &ProviderRecord, tokens: &'a TokenSet) -> Option<&'a crate::Secret> {
    tokens.id_token.as_ref().filter(|_| provider.checks_id_tokens())
}

fn id_token_claims(id_token: &str) -> Option<Claims> {
    serde_json::from_value(id_token_payload(id_token)?).ok()
}

fn id_token_payload(id_token: &str) -> Option<serde_json::Value> {
    let payload = id_token.split('.').nth(1)?;
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::same_account_id;

    #[test]
    fn a_personal_microsoft_account_s_oid_is_its_graph_id() {
        assert!(same_account_id("00000000-0000-0000-fde9-26f844473904", "fde926f844473904"));
        assert!(same_account_id("00000000-0000-0000-FDE9-26F844473904", "fde926f844473904"));
        assert!(same_account_id(
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        ));
        assert!(!same_account_id("00000000-0000-0000-fde9-26f844473905", "fde926f844473904"));
        assert!(!same_account_id("00000000-0000-0001-fde9-26f844473904", "fde926f844473904"));
        assert!(!same_account_id("00000000-0000-0000-fde9-26f84447390", "fde926f84447390"));
    }
}
