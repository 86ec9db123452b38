//! The token agent: the running app hands connections' tokens to the person's programs
//! over a Unix socket, asks the person before a program gets one (per connection: once
//! per program, every time, or never), and records every hand-out. It gives consent
//! and a record against programs that ask; it is not a sandbox (SECURITY.md).

#[cfg(unix)]
pub mod client;
mod consent;
mod handout;
#[cfg(target_os = "linux")]
mod peer;
pub mod protocol;
#[cfg(target_os = "linux")]
mod server;
mod settings;

use std::path::{Path, PathBuf};

pub(crate) use consent::ConsentBroker;
pub(crate) use handout::TokenMemory;
#[cfg(target_os = "linux")]
pub use server::AgentServer;

/// Where the agent for the data directory `home` listens: `GRANTKEEPER_AGENT_SOCKET`;
/// else, for the usual data directory, `$XDG_RUNTIME_DIR/grantkeeper/agent.sock`; else
/// `agent.sock` in `home`, so an app and a CLI on another data directory (a test, a
/// second profile) never hand out each other's tokens.
pub fn socket_path(home: &Path) -> PathBuf {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(path) = set("GRANTKEEPER_AGENT_SOCKET") {
        return path;
    }
    let runtime = set("XDG_RUNTIME_DIR").filter(|_| crate::config::default_home().as_deref() == Some(home));
    runtime.map_or_else(|| home.join("agent.sock"), |dir| dir.join("grantkeeper/agent.sock"))
}
