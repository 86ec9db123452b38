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
    /// error that quotes the request). A run of base64 that decodes to text holding one of
    /// them (an echoed `Authorization: Basic` header carries the client secret that way) is
    /// redacted whole.
    pub fn redacted<'a>(text: &str, sent: impl IntoIterator<Item = &'a Secret>) -> String {
        // A form writes a space `+`; a URL's path or query, `%20`. Each form is wiped too.
        let forms: Vec<zeroize::Zeroizing<String>> = sent
            .into_iter()
            .filter(|secret| !secret.0.is_empty())
            .flat_map(|secret| {
                let in_a_form: String = url::form_urlencoded::byte_serialize(secret.0.as_bytes()).collect();
                let in_a_url = in_a_form.replace('+', "%20");
                [secret.0.clone(), in_a_form, in_a_url].map(zeroize::Zeroizing::new)
            })
            .collect();
        let plain =
            forms.iter().fold(text.to_owned(), |text, form| text.replace(form.as_str(), "[redacted]"));
        let holds_a_secret = |run: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(run).is_ok_and(|bytes| {
                let decoded = String::from_utf8_lossy(&bytes);
                forms.iter().any(|form| decoded.contains(form.as_str()))
            })
        };
        let mut redacted = String::with_capacity(plain.len());
        let mut rest = plain.as_str();
        while let Some(start) = rest.find(is_base64) {
            let end = rest[start..].find(|c| !is_base64(c)).map_or(rest.len(), |length| start + length);
            let run = &rest[start..end];
            redacted.push_str(&rest[..start]);
            redacted.push_str(if holds_a_secret(run) { "[redacted]" } else { run });
            rest = &rest[end..];
        }
        redacted.push_str(rest);
        redacted
    }

    /// Whether it can go in a request header and print as one line: not empty, and no
    /// space, line break or other control character.
    pub fn is_one_word(&self) -> bool {
        !self.0.is_empty() && !self.0.chars().any(|c| c.is_control() || c.is_whitespace())
    }

    /// `•••• last4` material: the last four characters, when the secret is long enough
    /// that showing them reveals little.
    pub fn last4(&self) -> Option<String> {
        let count = self.0.chars().count();
        (count >= 12).then(|| self.0.chars().skip(count - 4).collect())
    }
}

fn is_base64(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
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
    fn a_secret_quoted_back_in_a_basic_header_is_redacted() {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode("client%3A1:s%2Fecret+x");
        let said = format!("invalid_client (Authorization: Basic {basic}; Basic aGVsbG8=)");
        assert_eq!(
            Secret::redacted(&said, [&Secret::new("s/ecret x")]),
            "invalid_client (Authorization: Basic [redacted]; Basic aGVsbG8=)"
        );
    }

    #[test]
    fn last4_only_for_long_secrets() {
        assert_eq!(Secret::new("abcdefghijkl").last4().as_deref(), Some("ijkl"));
        assert_eq!(Secret::new("short").last4(), None);
    }
}
