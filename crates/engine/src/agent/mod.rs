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

use std::path::PathBuf;

pub(crate) use consent::ConsentBroker;
pub(crate) use handout::TokenMemory;
#[cfg(target_os = "linux")]
pub use server::AgentServer;

/// Where the agent's socket is: `GRANTKEEPER_AGENT_SOCKET`, else
/// `$XDG_RUNTIME_DIR/grantkeeper/agent.sock`; None where neither is set.
pub fn socket_path() -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    set("GRANTKEEPER_AGENT_SOCKET")
        .or_else(|| set("XDG_RUNTIME_DIR").map(|dir| dir.join("grantkeeper/agent.sock")))
}
