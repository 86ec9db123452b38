//! The token agent: the running app hands connections' tokens to the person's programs
//! over a Unix socket (a named pipe on Windows), asks the person before a program gets
//! one (per connection: once per program, every time, or never), and records every
//! hand-out. It gives consent and a record against programs that ask; it is not a
//! sandbox (SECURITY.md).

pub mod client;
mod consent;
mod handout;
#[cfg(any(target_os = "linux", windows))]
mod peer;
#[cfg(windows)]
mod pipe;
pub mod protocol;
#[cfg(any(target_os = "linux", windows))]
mod server;
mod settings;
#[cfg(unix)]
mod socket;

use std::path::{Path, PathBuf};

pub(crate) use consent::ConsentBroker;
pub(crate) use handout::TokenMemory;
#[cfg(windows)]
use pipe as transport;
#[cfg(any(target_os = "linux", windows))]
pub use server::AgentServer;
#[cfg(unix)]
use socket as transport;

/// Whether the app serves a token agent on this system. Where it does not (macOS, for
/// now: telling the calling program needs its own code there), programs read the
/// keychain themselves.
pub const SERVES_HERE: bool = cfg!(any(target_os = "linux", windows));

/// Where the agent for the data directory `home` listens: `GRANTKEEPER_AGENT_SOCKET`;
/// else, for the usual data directory, `$XDG_RUNTIME_DIR/grantkeeper/agent.sock`; else
/// `agent.sock` in `home`, so an app and a CLI on another data directory (a test, a
/// second profile) never hand out each other's tokens.
#[cfg(unix)]
pub fn address(home: &Path) -> PathBuf {
    if let Some(path) = set_in_environment("GRANTKEEPER_AGENT_SOCKET") {
        return path;
    }
    let runtime = set_in_environment("XDG_RUNTIME_DIR")
        .filter(|_| crate::config::default_home().as_deref() == Some(home));
    runtime.map_or_else(|| home.join("agent.sock"), |dir| dir.join("grantkeeper/agent.sock"))
}

/// The named pipe the agent for the data directory `home` listens on:
/// `GRANTKEEPER_AGENT_SOCKET` (a pipe name, `\\.\pipe\…`); else one named after
/// `home`, since pipe names are one namespace for the whole machine (every person's
/// data directory differs, and so does a test's or a second profile's).
#[cfg(windows)]
pub fn address(home: &Path) -> PathBuf {
    use base64::Engine as _;
    use sha2::Digest as _;

    if let Some(name) = set_in_environment("GRANTKEEPER_AGENT_SOCKET") {
        return name;
    }
    let digest = sha2::Sha256::digest(home.as_os_str().as_encoded_bytes());
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12]);
    PathBuf::from(format!(r"\\.\pipe\grantkeeper-agent-{tag}"))
}

fn set_in_environment(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from)
}
