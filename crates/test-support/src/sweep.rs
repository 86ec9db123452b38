//! What the secret sweeps search for: every secret that existed during a test.

use crate::{secret_tool_keys, secret_tool_lookup, ProviderEmulator};

fn form_values(body: &str, names: &[&str]) -> Vec<String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| names.contains(name))
        .map(|(_, value)| value.replace("%2F", "/").replace("%2B", "+").replace("%3D", "="))
        .collect()
}

/// `given` (the client secrets and keys the test typed in), the keychain's values under
/// `service` (each token of a token set), and what the emulator saw: codes, PKCE
/// verifiers, refresh tokens and client secrets in request bodies, bearer tokens in
/// headers. Read the keychain before removing anything. Short values (under 12
/// characters) are left out: they would match by chance.
pub async fn secrets_seen(given: &[&str], service: &str, emulator: &ProviderEmulator) -> Vec<String> {
    let mut secrets: Vec<String> = given.iter().map(|s| (*s).to_owned()).collect();
    for key in secret_tool_keys(service) {
        let value = secret_tool_lookup(service, &key).unwrap_or_default();
        match serde_json::from_str::<serde_json::Value>(&value) {
            Ok(tokens) => {
                for field in ["access_token", "refresh_token", "id_token"] {
                    secrets.extend(tokens[field].as_str().map(str::to_owned));
                }
            }
            Err(_) => secrets.push(value),
        }
    }
    for request in emulator.log().await {
        let body = request["body"].as_str().unwrap_or_default();
        secrets.extend(form_values(body, &["code", "code_verifier", "refresh_token", "client_secret"]));
        let bearer = request["headers"]["authorization"].as_str().and_then(|h| h.strip_prefix("Bearer "));
        secrets.extend(bearer.map(str::to_owned));
    }
    secrets.retain(|s| s.len() >= 12);
    secrets.sort();
    secrets.dedup();
    secrets
}
