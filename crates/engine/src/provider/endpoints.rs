//! A provider's endpoints: one type wherever they are listed — the catalog's, a custom
//! provider's, those a person set by hand on a provider app, and the ones in use.

use serde::{Deserialize, Serialize};
use specta::Type;

use super::urls::{authorize_endpoint, provider_url, UrlCheck};

/// `Required` holds the two endpoints every provider has, authorize and token: a
/// `String` where they are known, an `Option<String>` where endpoints are set by hand
/// and each may be absent ([`EndpointOverrides`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Endpoints<Required = String> {
    pub authorize_url: Required,
    pub token_url: Required,
    /// The identity API (OpenID userinfo, or the provider's "who am I").
    pub userinfo_url: Option<String>,
    /// RFC 7009, or the provider's own way.
    pub revocation_url: Option<String>,
    /// Where the keys that sign its ID tokens are published (JWKS).
    pub jwks_url: Option<String>,
    /// RFC 8628 sign-in by code, where the provider offers it.
    pub device_authorization_url: Option<String>,
}

/// Endpoints a person set by hand; `None`: the provider's own.
pub type EndpointOverrides = Endpoints<Option<String>>;

/// One endpoint as a form names it: its field (as forms, errors and `overridden` name
/// it), what a person calls it, and the check a URL for it must pass.
#[derive(Clone, Copy)]
pub struct EndpointField {
    pub name: &'static str,
    pub label: &'static str,
    pub check: UrlCheck,
}

const fn field(name: &'static str, label: &'static str) -> EndpointField {
    EndpointField { name, label, check: provider_url }
}

/// Every endpoint, in the order of [`EndpointOverrides::values_mut`].
pub const ENDPOINT_FIELDS: [EndpointField; 6] = [
    EndpointField { name: "authorize_url", label: "authorize URL", check: authorize_endpoint },
    field("token_url", "token URL"),
    field("revocation_url", "revocation URL"),
    field("userinfo_url", "identity URL"),
    field("jwks_url", "JWKS URL"),
    field("device_authorization_url", "device sign-in URL"),
];

impl Endpoints {
    /// These endpoints with the ones set by hand in their place.
    pub fn overridden_by(self, overrides: &EndpointOverrides) -> Endpoints {
        let chosen = |own: Option<String>, set: &Option<String>| set.clone().or(own);
        Endpoints {
            authorize_url: overrides.authorize_url.clone().unwrap_or(self.authorize_url),
            token_url: overrides.token_url.clone().unwrap_or(self.token_url),
            userinfo_url: chosen(self.userinfo_url, &overrides.userinfo_url),
            revocation_url: chosen(self.revocation_url, &overrides.revocation_url),
            jwks_url: chosen(self.jwks_url, &overrides.jwks_url),
            device_authorization_url: chosen(
                self.device_authorization_url,
                &overrides.device_authorization_url,
            ),
        }
    }
}

impl EndpointOverrides {
    /// The field names of the endpoints set by hand.
    pub fn names(&self) -> Vec<String> {
        let mut copy = self.clone();
        ENDPOINT_FIELDS
            .into_iter()
            .zip(copy.values_mut())
            .filter(|(_, set)| set.is_some())
            .map(|(field, _)| field.name.to_owned())
            .collect()
    }

    /// Each endpoint, in the order of [`ENDPOINT_FIELDS`].
    pub fn values_mut(&mut self) -> [&mut Option<String>; 6] {
        [
            &mut self.authorize_url,
            &mut self.token_url,
            &mut self.revocation_url,
            &mut self.userinfo_url,
            &mut self.jwks_url,
            &mut self.device_authorization_url,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_set_by_hand_take_the_place_of_the_providers_own() {
        let own = Endpoints {
            authorize_url: "https://op.example/authorize".into(),
            token_url: "https://op.example/token".into(),
            jwks_url: Some("https://op.example/jwks".into()),
            ..Default::default()
        };
        let overrides = EndpointOverrides {
            token_url: Some("https://proxy.example/token".into()),
            device_authorization_url: Some("https://op.example/device".into()),
            ..Default::default()
        };
        let used = own.clone().overridden_by(&overrides);
        assert_eq!(used.authorize_url, own.authorize_url);
        assert_eq!(used.token_url, "https://proxy.example/token");
        assert_eq!(used.jwks_url, own.jwks_url);
        assert_eq!(used.device_authorization_url.as_deref(), Some("https://op.example/device"));
        assert_eq!(overrides.names(), ["token_url", "device_authorization_url"]);
    }
}
