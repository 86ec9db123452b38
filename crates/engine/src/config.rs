//! Where Grantkeeper keeps its data and which keychain service it uses.

use std::path::PathBuf;
use std::time::Duration;

use crate::oauth::Browser;
use crate::provider::SUPPLIED_APPS_FILE;
use crate::{Error, Result};

pub const DEFAULT_KEYCHAIN_SERVICE: &str = "grantkeeper";
/// How long a person has to finish signing in.
pub const FLOW_TIME_LIMIT: Duration = Duration::from_secs(15 * 60);
/// How long a refresh waits for another process's refresh of the same credential: a
/// refresh takes seconds (its HTTP requests time out after 30 s), so a lock held longer
/// belongs to a stuck process, and waiting for it would stall every refresh behind it.
pub const REFRESH_LOCK_WAIT: Duration = Duration::from_secs(2 * 60);
/// How long a program's request for a token waits for the person's answer.
pub const CONSENT_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory holding `grantkeeper.sqlite3`.
    pub home: PathBuf,
    pub keychain_service: String,
    pub browser: Browser,
    pub flow_time_limit: Duration,
    pub refresh_lock_wait: Duration,
    /// Files of provider apps an organisation or a distribution supplies, most
    /// important first (see `provider::supplied_apps`).
    pub supplied_provider_apps: Vec<PathBuf>,
    /// The URL of the client ID metadata document this distribution publishes: a client
    /// ID that servers offering `client_id_metadata_document_supported` take without a
    /// registration (`GRANTKEEPER_CLIENT_METADATA_URL`).
    pub client_metadata_document: Option<url::Url>,
    /// How long the token agent waits for the person's answer to a request.
    pub consent_wait: Duration,
}

impl Config {
    /// `GRANTKEEPER_HOME` overrides the data directory; `GRANTKEEPER_KEYCHAIN_SERVICE`
    /// the keychain service (test runs use their own); the browser comes from
    /// `GRANTKEEPER_BROWSER` or `BROWSER`.
    pub fn from_env() -> Result<Self> {
        let home = match std::env::var_os("GRANTKEEPER_HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home),
            None => default_home()
                .ok_or_else(|| Error::Internal("no data directory; set GRANTKEEPER_HOME".into()))?,
        };
        let keychain_service = std::env::var("GRANTKEEPER_KEYCHAIN_SERVICE")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_KEYCHAIN_SERVICE.to_owned());
        let client_metadata_document = match std::env::var("GRANTKEEPER_CLIENT_METADATA_URL") {
            Ok(url) if !url.trim().is_empty() => Some(
                crate::provider::client_id_document_url(
                    "client_metadata_document",
                    "client ID metadata document URL",
                    &url,
                )
                .map_err(|e| Error::Internal(format!("GRANTKEEPER_CLIENT_METADATA_URL: {e}")))?,
            ),
            _ => None,
        };
        let config = Config::new(home, keychain_service, Browser::from_env());
        Ok(Config {
            supplied_provider_apps: supplied_provider_app_files(),
            client_metadata_document,
            ..config
        })
    }

    /// Data in `home`, secrets under `keychain_service`, sign-ins in `browser`; the usual
    /// time limits, and no supplied provider apps (`from_env` finds those).
    pub fn new(home: PathBuf, keychain_service: String, browser: Browser) -> Self {
        Config {
            home,
            keychain_service,
            browser,
            flow_time_limit: FLOW_TIME_LIMIT,
            refresh_lock_wait: REFRESH_LOCK_WAIT,
            supplied_provider_apps: Vec::new(),
            client_metadata_document: None,
            consent_wait: CONSENT_WAIT,
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.home.join("grantkeeper.sqlite3")
    }
}

/// The person's file (in the user's configuration directory), then the system's:
/// `GRANTKEEPER_SYSTEM_PROVIDER_APPS` names another system file (for packagers and tests).
fn supplied_provider_app_files() -> Vec<PathBuf> {
    let user = dirs::config_dir().map(|dir| dir.join("grantkeeper").join(SUPPLIED_APPS_FILE));
    let system = match std::env::var_os("GRANTKEEPER_SYSTEM_PROVIDER_APPS").filter(|v| !v.is_empty()) {
        Some(file) => Some(PathBuf::from(file)),
        None => system_config_dir().map(|dir| dir.join(SUPPLIED_APPS_FILE)),
    };
    user.into_iter().chain(system).collect()
}

#[cfg(all(unix, not(target_os = "macos")))]
fn system_config_dir() -> Option<PathBuf> {
    Some(PathBuf::from("/etc/grantkeeper"))
}

#[cfg(target_os = "macos")]
fn system_config_dir() -> Option<PathBuf> {
    Some(PathBuf::from("/Library/Application Support/Grantkeeper"))
}

#[cfg(windows)]
fn system_config_dir() -> Option<PathBuf> {
    std::env::var_os("ProgramData").map(|dir| PathBuf::from(dir).join("Grantkeeper"))
}

/// The data directory when `GRANTKEEPER_HOME` does not name another.
pub(crate) fn default_home() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("grantkeeper"))
}
