//! The OS keychain through `keyring` (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows). No plaintext fallback, ever.

use crate::{Error, Result, Secret};

use super::SecretStore;

pub struct Keychain {
    /// Keychain service name; test runs use their own so they never touch real entries.
    service: String,
}

impl Keychain {
    pub fn new(service: impl Into<String>) -> Self {
        Keychain { service: service.into() }
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, key).map_err(unavailable)
    }
}

impl SecretStore for Keychain {
    fn read(&self, key: &str) -> Result<Option<Secret>> {
        match self.entry(key)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn write(&self, key: &str, value: &Secret) -> Result<()> {
        self.entry(key)?.set_password(value.expose()).map_err(unavailable)
    }

    fn delete(&self, key: &str) -> Result<()> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn unavailable(error: keyring::Error) -> Error {
    let hint = if cfg!(target_os = "linux") {
        "Start a Secret Service provider (gnome-keyring-daemon, KeePassXC or KWallet) in your desktop session and unlock it"
    } else {
        "Unlock your system keychain"
    };
    // keyring errors describe the store, never the secret.
    Error::KeychainUnavailable(format!("{error}. {hint}, then try again."))
}
