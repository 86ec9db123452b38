//! macOS Keychain and Windows Credential Manager through `keyring`.

use super::keychain::unavailable;
use crate::Result;

fn entry(service: &str, key: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(service, key).map_err(unavailable)
}

/// Makes `keyring` choose and open its store now rather than on the first read.
pub(super) fn connect() -> Result<()> {
    keyring::Entry::store_status().as_ref().map(|_| ()).map_err(unavailable)
}

pub(super) fn read(service: &str, key: &str) -> Result<Option<String>> {
    match entry(service, key)?.get_password() {
        Ok(value) => Ok(Some(value)),
        Err(keyring::Error::NoEntry) => Ok(None),
        // Changed to something that is not text: unreadable, as an entry that is not JSON.
        Err(keyring::Error::BadEncoding(bytes)) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => Err(unavailable(e)),
    }
}

pub(super) fn write(service: &str, key: &str, value: &str) -> Result<()> {
    entry(service, key)?.set_password(value).map_err(unavailable)
}

pub(super) fn delete(service: &str, key: &str) -> Result<()> {
    match entry(service, key)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(unavailable(e)),
    }
}
