//! The OS keychain: the Secret Service on Linux, Keychain on macOS, Credential Manager
//! on Windows. No plaintext fallback, ever. Values too long for one entry are split here,
//! the same way on every platform.

#[cfg(not(target_os = "linux"))]
use super::os_keychain as platform;
#[cfg(target_os = "linux")]
use super::secret_service as platform;
use super::SecretStore;
use crate::{Error, Result, Secret};

pub struct Keychain {
    /// Keychain service name; test runs use their own so they never touch real entries.
    service: String,
}

impl Keychain {
    pub fn new(service: impl Into<String>) -> Self {
        Keychain { service: service.into() }
    }

    /// Opens the keychain session (on Linux: a D-Bus connection and the Secret Service's
    /// Diffie-Hellman key exchange) on a thread of its own, so a short-lived command can
    /// read SQLite meanwhile; the first read then waits for it only if it is not done.
    pub fn connect_in_background() {
        std::thread::spawn(|| {
            // A failure shows again, with its message, on the first real use.
            let _ = platform::connect();
        });
    }

    fn read_one(&self, key: &str) -> Result<Option<String>> {
        platform::read(&self.service, key)
    }

    /// How many parts the entry at `key` names now (0: none, or no entry).
    fn parts_of(&self, key: &str) -> Result<usize> {
        Ok(self.read_one(key)?.as_deref().and_then(chunk_count).unwrap_or(0))
    }

    fn delete_parts(&self, key: &str, parts: std::ops::RangeInclusive<usize>) -> Result<()> {
        parts.into_iter().try_for_each(|part| platform::delete(&self.service, &chunk_key(key, part)))
    }

    /// Deletes the parts a shorter value than the one it replaced left unnamed. The new
    /// value is kept either way: a part left behind is only unreadable clutter.
    fn delete_unused_parts(&self, key: &str, parts: std::ops::RangeInclusive<usize>) {
        if let Err(error) = self.delete_parts(key, parts) {
            tracing::warn!(%error, "could not delete keychain parts a shorter value left unused");
        }
    }
}

impl SecretStore for Keychain {
    fn read(&self, key: &str) -> Result<Option<Secret>> {
        let Some(head) = self.read_one(key)? else { return Ok(None) };
        let Some(parts) = chunk_count(&head) else { return Ok(Some(Secret::new(head))) };
        let mut value = String::new();
        for part in 1..=parts {
            match self.read_one(&chunk_key(key, part))? {
                Some(chunk) => value.push_str(&chunk),
                // A part is gone: the secret is lost, as if its entry were missing.
                None => return Ok(None),
            }
        }
        Ok(Some(Secret::new(value)))
    }

    /// Long values (Microsoft's tokens run to several KB) are stored in parts, the
    /// parts first and the entry that names them last, so a write cut short leaves
    /// nothing readable rather than a truncated token.
    fn write(&self, key: &str, value: &Secret) -> Result<()> {
        let chunks = split(value.expose());
        if chunks.len() > MOST_PARTS {
            return Err(Error::Internal(format!(
                "a value of {} characters is more than the keychain keeps for one entry ({})",
                value.expose().chars().count(),
                MOST_PARTS * CHUNK_CHARS
            )));
        }
        let parts_before = self.parts_of(key)?;
        if chunks.len() == 1 {
            platform::write(&self.service, key, value.expose())?;
            self.delete_unused_parts(key, 1..=parts_before);
            return Ok(());
        }
        let parts = || (1..=chunks.len()).map(|part| chunk_key(key, part));
        let written = chunks
            .iter()
            .zip(parts())
            .try_for_each(|(chunk, part)| platform::write(&self.service, &part, chunk));
        let written =
            written.and_then(|()| platform::write(&self.service, key, &format!("{CHUNKED}{}", chunks.len())));
        if written.is_err() {
            // No entry names them: parts left behind could never be found again.
            parts().for_each(|part| drop(platform::delete(&self.service, &part)));
        }
        written?;
        self.delete_unused_parts(key, chunks.len() + 1..=parts_before);
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.delete_parts(key, 1..=self.parts_of(key)?)?;
        platform::delete(&self.service, key)
    }
}

/// Windows Credential Manager keeps at most 2,560 bytes per item, and `keyring` stores
/// UTF-16 there: 1,000 characters of any script stay well inside on every platform.
const CHUNK_CHARS: usize = 1000;
/// Marks an entry that names its parts: `grantkeeper-chunks:v1:<count>`.
const CHUNKED: &str = "grantkeeper-chunks:v1:";
/// The most parts an entry has: 64,000 characters, far more than any token set.
const MOST_PARTS: usize = 64;

fn split(value: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = value;
    while rest.chars().count() > CHUNK_CHARS {
        let cut = rest.char_indices().nth(CHUNK_CHARS).map_or(rest.len(), |(at, _)| at);
        chunks.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    chunks.push(rest);
    chunks
}

fn chunk_count(head: &str) -> Option<usize> {
    head.strip_prefix(CHUNKED)?.parse().ok().filter(|count| (2..=MOST_PARTS).contains(count))
}

fn chunk_key(key: &str, part: usize) -> String {
    format!("{key}#part{part}")
}

pub(super) fn unavailable(error: impl std::fmt::Display) -> Error {
    let hint = if cfg!(target_os = "linux") {
        "Start a Secret Service provider (gnome-keyring-daemon, KeePassXC or KWallet) in your desktop session and unlock it"
    } else {
        "Unlock your system keychain"
    };
    // The stores' errors describe the store, never the secret.
    Error::KeychainUnavailable(format!("{error}. {hint}, then try again."))
}

#[cfg(test)]
mod tests {
    use super::{chunk_count, split, CHUNK_CHARS};

    #[test]
    fn long_values_split_on_character_boundaries_and_join_back() {
        let value = "é".repeat(CHUNK_CHARS) + &"x".repeat(CHUNK_CHARS + 1);
        let chunks = split(&value);
        assert_eq!(chunks.len(), 3);
        assert!(chunks.iter().all(|c| c.chars().count() <= CHUNK_CHARS));
        assert_eq!(chunks.concat(), value);
        assert_eq!(split("short"), ["short"]);
    }

    #[test]
    fn only_a_well_formed_head_names_parts() {
        assert_eq!(chunk_count("grantkeeper-chunks:v1:3"), Some(3));
        assert_eq!(chunk_count("grantkeeper-chunks:v1:x"), None);
        assert_eq!(chunk_count("grantkeeper-chunks:v1:100000"), None);
        assert_eq!(chunk_count("{\"access_token\":\"...\"}"), None);
    }
}
