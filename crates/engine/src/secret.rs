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
    fn last4_only_for_long_secrets() {
        assert_eq!(Secret::new("abcdefghijkl").last4().as_deref(), Some("ijkl"));
        assert_eq!(Secret::new("short").last4(), None);
    }
}
