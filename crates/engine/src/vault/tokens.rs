//! A credential's tokens, kept together in one keychain entry so a read or a write
//! is one keychain call and never half done.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Secret;

#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
    pub token_type: String,
    /// An API key's other secret fields, by field id (the key itself is
    /// `access_token`).
    pub secret_fields: BTreeMap<String, Secret>,
}

/// The keychain representation; private so nothing else can serialize a token.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    token_type: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    secret_fields: BTreeMap<String, String>,
}

impl TokenSet {
    /// Tokens from a token response; no API-key fields.
    pub fn oauth(access_token: Secret, refresh_token: Option<Secret>, id_token: Option<Secret>) -> Self {
        TokenSet {
            access_token,
            refresh_token,
            id_token,
            token_type: "Bearer".into(),
            secret_fields: BTreeMap::new(),
        }
    }

    pub(super) fn encode(&self) -> Secret {
        let stored = Stored {
            access_token: self.access_token.expose().to_owned(),
            refresh_token: self.refresh_token.as_ref().map(|s| s.expose().to_owned()),
            id_token: self.id_token.as_ref().map(|s| s.expose().to_owned()),
            token_type: self.token_type.clone(),
            secret_fields: self
                .secret_fields
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_owned()))
                .collect(),
        };
        Secret::new(serde_json::to_string(&stored).expect("token set serializes"))
    }

    /// None when the entry is not in Grantkeeper's format (changed outside it). serde's
    /// error, which would quote the entry, is not kept.
    pub(super) fn decode(secret: &Secret) -> Option<Self> {
        let stored: Stored = serde_json::from_str(secret.expose()).ok()?;
        let tokens = TokenSet {
            access_token: Secret::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Secret::new),
            id_token: stored.id_token.map(Secret::new),
            token_type: stored.token_type,
            secret_fields: stored.secret_fields.into_iter().map(|(k, v)| (k, Secret::new(v))).collect(),
        };
        // Grantkeeper never keeps an empty token or one with a line break: such an entry
        // was changed outside it, and handed out it would print as no line, or as two.
        let usable = tokens.access_token.is_one_word()
            && tokens.refresh_token.as_ref().is_none_or(Secret::is_one_word);
        usable.then_some(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_never_prints_tokens() {
        let tokens = TokenSet::oauth(Secret::new("canary-access"), Some(Secret::new("canary-refresh")), None);
        let decoded = TokenSet::decode(&tokens.encode()).unwrap();
        assert_eq!(decoded.access_token.expose(), "canary-access");
        assert_eq!(decoded.refresh_token.unwrap().expose(), "canary-refresh");
        assert!(!format!("{tokens:?}").contains("canary"));
    }

    #[test]
    fn an_entry_in_another_format_is_no_tokens() {
        assert!(TokenSet::decode(&Secret::new("canary-garbage")).is_none());
        assert!(TokenSet::decode(&Secret::new(r#"{"token_type":"Bearer"}"#)).is_none());
        for tampered in [r#""""#, r#""sk-a\nInjected: yes""#, r#""sk a""#] {
            let entry = format!(r#"{{"access_token":{tampered},"token_type":"Bearer"}}"#);
            assert!(TokenSet::decode(&Secret::new(entry.clone())).is_none(), "{entry}");
        }
    }
}
