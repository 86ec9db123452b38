//! Linux: the freedesktop Secret Service (GNOME Keyring, KeePassXC, KWallet) through
//! `oo7`, GNOME's own client. Chosen over `keyring`'s Secret Service store because its
//! key exchange costs a third of the CPU, which is most of what `grantkeeper token`
//! spends (BENCHMARKS.md), and because a connection that broke (the service restarted)
//! is simply opened again. Items carry the attributes `service` and `username`, as
//! `secret-tool` and earlier versions name them.

use std::sync::{Arc, Mutex};

use futures_lite::future::block_on;
use oo7::dbus::{Collection, Error as ServiceError, Service, ServiceError as Refusal};

use super::keychain::unavailable;
use crate::Result;

/// One session per process: opening it costs a D-Bus connection and a key exchange.
static SESSION: Mutex<Option<Arc<Service>>> = Mutex::new(None);

/// The session, opened on first use; a caller waits on the lock while another thread
/// opens it (see `Keychain::connect_in_background`).
pub(super) fn connect() -> Result<Arc<Service>> {
    let mut slot = SESSION.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(service) = slot.as_ref() {
        return Ok(service.clone());
    }
    // Encrypted only: never fall back to sending secrets in the clear.
    let service = Arc::new(block_on(Service::encrypted()).map_err(unavailable)?);
    *slot = Some(service.clone());
    Ok(service)
}

/// Runs `work` on the session; when the session is gone (the service went away, and a
/// new one that came back does not know it), once more on a new one.
fn with_session<T>(work: impl Fn(&Service) -> Result<T, ServiceError>) -> Result<T> {
    match work(&*connect()?) {
        Err(ServiceError::ZBus(_) | ServiceError::Service(Refusal::NoSession(_))) => {
            SESSION.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
            work(&*connect()?).map_err(unavailable)
        }
        other => other.map_err(unavailable),
    }
}

fn attributes<'a>(service: &'a str, key: &'a str) -> [(&'a str, &'a str); 2] {
    [("service", service), ("username", key)]
}

/// A locked collection or item is unlocked (the service may ask the person) and the
/// call made again.
async fn unlocking<T, F: std::future::Future<Output = Result<T, ServiceError>>>(
    collection: &Collection,
    call: impl Fn() -> F,
) -> Result<T, ServiceError> {
    match call().await {
        Err(ServiceError::Service(Refusal::IsLocked(_))) => {
            collection.unlock(None).await?;
            call().await
        }
        other => other,
    }
}

/// Reading or deleting where no default collection is open: the entries were written
/// to one that is not there now (a KeePassXC database not opened yet), which is not the
/// same as their being gone.
const NO_DEFAULT_COLLECTION: &str = "the Secret Service has no default keyring open now (in KeePassXC, open the database that keeps Grantkeeper's entries)";

pub(super) fn read(service: &str, key: &str) -> Result<Option<String>> {
    let bytes = with_session(|session| {
        block_on(async {
            let Some(collection) = session.with_alias(Service::DEFAULT_COLLECTION).await? else {
                return Ok(Err(()));
            };
            let items = collection.search_items(&attributes(service, key)).await?;
            let Some(item) = items.first() else { return Ok(Ok(None)) };
            let secret = unlocking(&collection, || item.secret()).await?;
            Ok(Ok(Some(secret.as_bytes().to_vec())))
        })
    })?;
    let bytes = bytes.map_err(|()| unavailable(NO_DEFAULT_COLLECTION))?;
    // An entry changed to something that is not text is unreadable, as one that is not
    // JSON is: the keychain itself answers.
    Ok(bytes.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

pub(super) fn write(service: &str, key: &str, value: &str) -> Result<()> {
    let label = format!("Grantkeeper: {key}");
    with_session(|session| {
        block_on(async {
            let collection = session.default_collection().await?;
            let attributes = attributes(service, key);
            let store = || collection.create_item(&label, &attributes, value, true, None);
            unlocking(&collection, store).await.map(drop)
        })
    })
}

pub(super) fn delete(service: &str, key: &str) -> Result<()> {
    with_session(|session| {
        block_on(async {
            let Some(collection) = session.with_alias(Service::DEFAULT_COLLECTION).await? else {
                return Ok(Err(()));
            };
            for item in collection.search_items(&attributes(service, key)).await? {
                unlocking(&collection, || item.delete(None)).await?;
            }
            Ok(Ok(()))
        })
    })?
    .map_err(|()| unavailable(NO_DEFAULT_COLLECTION))
}
