//! Checks OpenID Connect ID tokens: the signature against the provider's published keys
//! (JWKS), issuer, audience and expiry, and what ties the token to this grant — the
//! nonce of a sign-in (Core §3.1.3.7), or the account of the sign-in it refreshes
//! (Core §12.2).

use std::collections::HashMap;

use base64::Engine as _;
use openidconnect::core::{
    CoreGenderClaim, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{AdditionalClaims, ClientId, ClientSecret, IssuerUrl, JsonWebKey, Nonce};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::provider::ProviderRecord;
use crate::Secret;

/// What an ID token must be tied to, besides the provider and the client.
#[derive(Clone, Copy)]
pub(crate) enum Expected<'a> {
    /// A sign-in: the nonce it sent, if it sent one (a device sign-in, RFC 8628, has
    /// none to send).
    SignIn { nonce: Option<&'a Secret> },
    /// A refresh: the ID token kept from the sign-in (or the last refresh), if any. The
    /// new one must name the same issuer, account and audience, and carry no nonce
    /// other than that one's.
    Refresh { previous: Option<&'a Secret> },
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum IdTokenError {
    /// Not the provider's, not for this client, expired, or not from this sign-in. The
    /// detail names claims and algorithms, never the token.
    #[error("its ID token was refused: {0}")]
    Refused(String),
    /// Validly signed, but for another account than the grant was for.
    #[error("its refreshed ID token names another account than the one that signed in")]
    OtherAccount,
}

/// Microsoft's tenant claim, which its multi-tenant issuers name (`{tid}`).
#[derive(Debug, Clone, Deserialize, Serialize)]
struct TenantClaim {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tid: Option<String>,
}

impl AdditionalClaims for TenantClaim {}

type IdToken = openidconnect::IdToken<
    TenantClaim,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// A provider's published signing keys, and the issuer each key signs for where the
/// document names one (Microsoft's keys do: `{tenantid}` at its multi-tenant endpoints,
/// the tenant's own issuer at a tenant's, even one given by its domain).
pub(crate) struct SigningKeys {
    keys: CoreJsonWebKeySet,
    issuers: HashMap<String, String>,
}

/// The `issuer` member of each key in a JWKS document, by key ID.
#[derive(Deserialize)]
struct KeyIssuers {
    keys: Vec<KeyIssuer>,
}

#[derive(Deserialize)]
struct KeyIssuer {
    kid: Option<String>,
    issuer: Option<String>,
}

impl SigningKeys {
    /// Keys from a JWKS document (RFC 7517 §5).
    pub fn from_document(body: &[u8]) -> std::result::Result<SigningKeys, NotAJwks> {
        let keys = serde_json::from_slice(body).map_err(|_| NotAJwks)?;
        let named: KeyIssuers = serde_json::from_slice(body).map_err(|_| NotAJwks)?;
        let issuers = named.keys.into_iter().filter_map(|key| Some((key.kid?, key.issuer?))).collect();
        Ok(SigningKeys { keys, issuers })
    }

    /// Checks `id_token` from `provider` for the provider app `client_id` (with its
    /// secret, for providers that sign with it: HS256).
    pub fn check(
        &self,
        id_token: &Secret,
        provider: &ProviderRecord,
        client_secret: Option<&Secret>,
        expected: Expected<'_>,
    ) -> std::result::Result<(), IdTokenError> {
        let token: IdToken =
            id_token.expose().parse().map_err(|_| IdTokenError::Refused("it is not a signed JWT".into()))?;
        let previous = match expected {
            Expected::Refresh { previous } => previous.and_then(|t| UnverifiedClaims::of(t.expose())),
            Expected::SignIn { .. } => None,
        };
        let verifier = self.verifier(provider, client_secret);
        // The library's messages name claims and algorithms, never the token.
        let claims = token
            .claims(&verifier, |found: Option<&Nonce>| check_nonce(found, &expected, previous.as_ref()))
            .map_err(|e| IdTokenError::Refused(crate::error::provider_text(&e.to_string())))?;
        let key_issuer = token
            .signing_key(&verifier)
            .ok()
            .and_then(|key| key.key_id())
            .and_then(|kid| self.issuers.get(kid.as_str()));
        let issuer = Issuer {
            claimed: claims.issuer().as_str(),
            tenant: claims.additional_claims().tid.as_deref(),
            of_signing_key: key_issuer.map(String::as_str),
        };
        check_issuer(provider, &issuer)?;
        if let Some(previous) = previous {
            if previous.iss != claims.issuer().as_str() || previous.sub != claims.subject().as_str() {
                return Err(IdTokenError::OtherAccount);
            }
            let audiences: Vec<&str> = claims.audiences().iter().map(|a| a.as_str()).collect();
            if previous.audiences() != audiences {
                return Err(IdTokenError::Refused("its audience differs from the sign-in's".into()));
            }
        }
        Ok(())
    }

    /// Signature, audience and expiry; the issuer is compared by [`check_issuer`], where
    /// `{tid}` can be filled from the token.
    fn verifier(&self, provider: &ProviderRecord, client_secret: Option<&Secret>) -> CoreIdTokenVerifier<'_> {
        let any_issuer = IssuerUrl::new("https://issuer.invalid".into()).expect("a URL");
        let client_id = ClientId::new(provider.app.client_id.clone());
        match client_secret {
            Some(secret) => CoreIdTokenVerifier::new_confidential_client(
                client_id,
                ClientSecret::new(secret.expose().to_owned()),
                any_issuer,
                self.keys.clone(),
            ),
            None => CoreIdTokenVerifier::new_public_client(client_id, any_issuer, self.keys.clone()),
        }
        .require_issuer_match(false)
        .set_allowed_algs(signing_algorithms(&provider.id_token_algorithms, client_secret.is_some()))
        .set_time_fn(|| chrono::Utc::now() - CLOCK_SKEW)
    }
}

/// How far this machine's clock may run ahead of the provider's: a fresh ID token must
/// not read as expired (and a refresh's answer be dropped) on a machine a few minutes
/// fast, as after a dual boot before the time is synchronised.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The algorithms a provider's ID tokens may be signed with: those its configuration
/// lists, else RS256 (OpenID Connect Core §3.1.3.7). Never `none`; the shared-secret
/// (HS) ones only for a client that has a secret to check them with.
fn signing_algorithms(listed: &[String], confidential: bool) -> Vec<CoreJwsSigningAlgorithm> {
    use CoreJwsSigningAlgorithm::*;
    let public_key = [
        RsaSsaPkcs1V15Sha256,
        RsaSsaPkcs1V15Sha384,
        RsaSsaPkcs1V15Sha512,
        RsaSsaPssSha256,
        RsaSsaPssSha384,
        RsaSsaPssSha512,
        EcdsaP256Sha256,
        EcdsaP384Sha384,
        EdDsa,
    ];
    let shared_secret = [HmacSha256, HmacSha384, HmacSha512];
    let usable = |alg: &CoreJwsSigningAlgorithm| {
        public_key.contains(alg) || (confidential && shared_secret.contains(alg))
    };
    let chosen: Vec<_> = listed
        .iter()
        .filter_map(|name| serde_json::from_value(serde_json::Value::String(name.clone())).ok())
        .filter(usable)
        .collect();
    if chosen.is_empty() {
        vec![RsaSsaPkcs1V15Sha256]
    } else {
        chosen
    }
}

/// A sign-in's ID token must carry the nonce it sent; a refreshed one the sign-in's
/// nonce, if any, and no other.
fn check_nonce(
    found: Option<&Nonce>,
    expected: &Expected<'_>,
    previous: Option<&UnverifiedClaims>,
) -> std::result::Result<(), String> {
    let wanted = match (expected, previous) {
        (Expected::SignIn { nonce }, _) => nonce.map(|n| n.expose()),
        (Expected::Refresh { .. }, Some(previous)) => previous.nonce.as_deref(),
        (Expected::Refresh { .. }, None) => None,
    };
    match (found, wanted) {
        (None, Some(_)) if matches!(expected, Expected::SignIn { .. }) => Err("missing nonce claim".into()),
        (Some(found), Some(wanted)) if !bool::from(found.secret().as_bytes().ct_eq(wanted.as_bytes())) => {
            Err("nonce mismatch".into())
        }
        // A refresh must not bring a nonce the sign-in did not have.
        (Some(_), None) if matches!(expected, Expected::Refresh { .. }) && previous.is_some() => {
            Err("nonce mismatch".into())
        }
        _ => Ok(()),
    }
}

/// What an ID token says about who issued it.
struct Issuer<'t> {
    /// `iss`.
    claimed: &'t str,
    /// Microsoft's `tid`, which its multi-tenant issuers name.
    tenant: Option<&'t str>,
    /// The issuer its signing key is published for, where the JWKS names one.
    of_signing_key: Option<&'t str>,
}

/// The issuer must be one the provider signs as, and the one its signing key is for.
/// Microsoft's multi-tenant issuers name the token's tenant, which must be a tenant ID
/// (https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-the-issuer).
fn check_issuer(provider: &ProviderRecord, issuer: &Issuer<'_>) -> std::result::Result<(), IdTokenError> {
    let tenant = issuer.tenant.filter(|tid| uuid::Uuid::parse_str(tid).is_ok());
    let names_it = |template: &str, placeholder: &str| match (template.contains(placeholder), tenant) {
        (false, _) => template == issuer.claimed,
        (true, Some(tid)) => template.replace(placeholder, tid) == issuer.claimed,
        (true, None) => false,
    };
    let claimed = || crate::error::provider_text(issuer.claimed);
    if !provider.id_token_issuers.iter().any(|template| names_it(template, "{tid}")) {
        return Err(IdTokenError::Refused(format!("it names the issuer “{}”", claimed())));
    }
    if let Some(key_issuer) = issuer.of_signing_key.filter(|template| !names_it(template, "{tenantid}")) {
        return Err(IdTokenError::Refused(format!(
            "it names the issuer “{}”, and its signing key is published for “{}”",
            claimed(),
            crate::error::provider_text(key_issuer)
        )));
    }
    // Microsoft's `organizations` endpoint is for work and school accounts: a
    // personal account's token there is not what the person chose.
    let consumer_tenant = provider.spec.and_then(|s| s.id_token.as_ref()?.consumer_tenant.as_deref());
    let organizations = provider.site().is_some_and(|site| site.eq_ignore_ascii_case("organizations"));
    if organizations && consumer_tenant.is_some_and(|consumers| tenant == Some(consumers)) {
        return Err(IdTokenError::Refused(
            "it is a personal account's, on the organizations endpoint".into(),
        ));
    }
    Ok(())
}

/// A JWKS document that is not one.
#[derive(Debug, thiserror::Error)]
#[error("its signing keys are not a JWKS document")]
pub(crate) struct NotAJwks;

/// The claims of an ID token Grantkeeper checked and kept earlier, read back from the
/// keychain without checking again (its keys may have been rotated since).
#[derive(Deserialize)]
struct UnverifiedClaims {
    iss: String,
    sub: String,
    aud: Audiences,
    nonce: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audiences {
    One(String),
    Many(Vec<String>),
}

impl UnverifiedClaims {
    fn of(id_token: &str) -> Option<UnverifiedClaims> {
        let payload = id_token.split('.').nth(1)?;
        let bytes =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn audiences(&self) -> Vec<&str> {
        match &self.aud {
            Audiences::One(one) => vec![one.as_str()],
            Audiences::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_algorithms_listed_else_rs256_and_never_none() {
        let listed = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(signing_algorithms(&[], false), [CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
        assert_eq!(
            signing_algorithms(&listed(&["ES256", "none", "HS256"]), false),
            [CoreJwsSigningAlgorithm::EcdsaP256Sha256]
        );
        assert_eq!(
            signing_algorithms(&listed(&["HS256"]), true),
            [CoreJwsSigningAlgorithm::HmacSha256],
            "a confidential client checks HS256 with its secret"
        );
        assert_eq!(
            signing_algorithms(&listed(&["none"]), true),
            [CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
        );
    }

    #[test]
    fn microsoft_s_issuer_names_a_tenant_id_and_the_signing_key_s_tenant() {
        let spec = crate::catalog::Catalog::builtin().provider("microsoft").unwrap();
        let app = crate::store::ProviderAppRow::public_client("microsoft", "client");
        let common = ProviderRecord::builtin("microsoft", spec, app);
        let tenant = "00000000-0000-4000-8000-000000001001";
        let issuer = format!("https://login.microsoftonline.com/{tenant}/v2.0");
        let check = |tid: &str, of_signing_key: Option<&str>| {
            let claimed = issuer.replace(tenant, tid);
            check_issuer(&common, &Issuer { claimed: &claimed, tenant: Some(tid), of_signing_key }).is_ok()
        };
        assert!(check(tenant, None));
        assert!(check(tenant, Some("https://login.microsoftonline.com/{tenantid}/v2.0")));
        assert!(check(tenant, Some(&issuer)));
        assert!(!check(
            tenant,
            Some("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")
        ));
        assert!(!check("contoso.example", None), "a tid is a tenant ID");
        assert!(!check("../other", None));
    }
}
