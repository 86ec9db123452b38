//! A secret value: prints as `[redacted]`, has no `Serialize`, read through one accessor,
//! and is wiped from memory when dropped.

use std::fmt;

/// It cannot be written out by accident: it has no `Serialize` (nor `Display`), so it
/// never reaches JSON, an IPC reply or a log line. This must keep failing to compile:
///
/// ```compile_fail,E0277
/// let secret = grantkeeper_engine::Secret::new("canary");
/// serde_json::to_string(&secret).unwrap();
/// ```
///
/// ```compile_fail,E0277
/// let secret = grantkeeper_engine::Secret::new("canary");
/// println!("{secret}");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The only way to read the value; grep for it to audit where secrets go.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with each of the secrets `sent`, as sent and as a form or URL would encode
    /// it, written `[redacted]`: for what a server says back after it was sent them (an
    /// error that quotes the request).
    pub fn redacted<'a>(text: &str, sent: impl IntoIterator<Item = &'a Secret>) -> String {
        sent.into_iter().filter(|secret| !secret.0.is_empty()).fold(text.to_owned(), |text, secret| {
            // A form writes a space `+`; a URL's path or query, `%20`.
            let in_a_form: String = url::form_urlencoded::byte_serialize(secret.0.as_bytes()).collect();
            let in_a_url = in_a_form.replace('+', "%20");
            [secret.0.as_str(), &in_a_form, &in_a_url]
                .iter()
                .fold(text, |text, form| text.replace(form, "[redacted]"))
        })
    }

    /// `•••• last4` material: the last four characters, when the secret is long enough
    /// that showing them reveals little.
    pub fn last4(&self) -> Option<String> {
        let count = self.0.chars().count();
        (count >= 12).then(|| self.0.chars().skip(count - 4).collect())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("canary-secret-value");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret)), "Some([redacted])");
    }

    #[test]
    fn a_secret_quoted_back_is_redacted_in_every_encoding() {
        let secret = Secret::new("rt/canary+1 x");
        let said = "unknown refresh_token rt/canary+1 x (sent rt%2Fcanary%2B1+x, rt%2Fcanary%2B1%20x)";
        assert_eq!(
            Secret::redacted(said, [&secret]),
            "unknown refresh_token [redacted] (sent [redacted], [redacted])"
        );
        assert_eq!(Secret::redacted("as it was", [&Secret::new("")]), "as it was");
    }

    #[test]
    fn last4_only_for_long_secrets() {
        assert_eq!(Secret::new("abcdefghijkl").last4().as_deref(), Some("ijkl"));
        assert_eq!(Secret::new("short").last4(), None);
    }
}
