//! Opening the authorize URL through the XDG desktop portal
//! (`org.freedesktop.portal.OpenURI` on the session bus). The URL — with its state,
//! PKCE challenge and nonce — travels in a D-Bus message that only the bus and the
//! portal see, where `xdg-open URL` would show it to every local user in
//! /proc/PID/cmdline. How the portal hands it to the browser is the desktop's business.

use std::collections::HashMap;
use std::time::Duration;

use url::Url;
use zbus::zvariant::Value;

use crate::{Error, Result};

const PORTAL: &str = "org.freedesktop.portal.Desktop";
const PORTAL_PATH: &str = "/org/freedesktop/portal/desktop";
const OPEN_URI: &str = "org.freedesktop.portal.OpenURI";
/// A portal started on demand can take a while (its backends time out after 25 s when
/// one is missing); a sign-in should not wait forever on a stuck one.
const ANSWER_TIME_LIMIT: Duration = Duration::from_secs(30);

pub(super) enum Answer {
    Opened,
    /// No portal on the session bus (or no session bus), or it refused: why.
    NotOpened(String),
}

/// Asks the desktop portal to open `url`. An error means the portal did not answer in
/// time: it may still open the URL, so nothing else should.
pub(super) async fn open_uri(url: &Url) -> Result<Answer> {
    match tokio::time::timeout(ANSWER_TIME_LIMIT, ask(url)).await {
        Ok(Ok(true)) => Ok(Answer::Opened),
        Ok(Ok(false)) => Ok(Answer::NotOpened("no desktop portal on the session bus".into())),
        Ok(Err(error)) => Ok(Answer::NotOpened(error.to_string())),
        Err(_) => Err(Error::Internal(format!(
            "the desktop portal did not answer within {ANSWER_TIME_LIMIT:?}; open the sign-in link by hand"
        ))),
    }
}

/// False when the session has no portal running or able to start.
async fn ask(url: &Url) -> zbus::Result<bool> {
    let bus = zbus::Connection::session().await?;
    let dbus = zbus::fdo::DBusProxy::new(&bus).await?;
    let running = dbus.name_has_owner(PORTAL.try_into()?).await?;
    if !running && !dbus.list_activatable_names().await?.iter().any(|name| name.as_str() == PORTAL) {
        return Ok(false);
    }
    // OpenURI(parent_window s, uri s, options a{sv}); no window to be the parent of.
    let options: HashMap<&str, Value<'_>> = HashMap::new();
    bus.call_method(Some(PORTAL), PORTAL_PATH, Some(OPEN_URI), "OpenURI", &("", url.as_str(), options))
        .await?;
    Ok(true)
}
