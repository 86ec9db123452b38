//! The token agent as the window and the CLI see it: who asks for a connection's token,
//! what the person answers, and which programs may use a connection.

use serde::{Deserialize, Serialize};
use specta::Type;
use strum::{AsRefStr, EnumString};

use crate::Timestamp;

/// How a connection asks before a program gets its token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type, AsRefStr, EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConsentPolicy {
    /// Every request is asked about.
    AskEveryTime,
    /// Each program is asked about once; "Allow always" remembers it.
    #[default]
    OncePerProgram,
    /// Any program of the person's gets the token without asking (for automation).
    NeverAsk,
}

/// A program that asked for a token, as found from the process that connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Program {
    /// The executable's path: what rules are kept by.
    pub path: String,
    /// Its file name, for short mentions ("git").
    pub name: String,
    /// Its command line, as the kernel has it (may be changed by the program itself).
    pub command_line: String,
    /// Its working directory, where it could be read.
    pub working_dir: Option<String>,
    /// The name of the program that started it (a shell, a terminal), where known.
    pub started_from: Option<String>,
}

/// A request for a connection's token waiting for the person's answer.
#[derive(Debug, Clone, Serialize, Type)]
pub struct ConsentRequest {
    pub id: String,
    pub connection_id: String,
    pub connection_name: String,
    pub program: Program,
    /// Whether "Allow always" can be offered (not for connections that ask every time).
    pub can_allow_always: bool,
    /// RFC 3339.
    pub asked_at: Timestamp,
}

/// The person's answer to a [`ConsentRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type, AsRefStr, EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConsentAnswer {
    AllowOnce,
    AllowAlways,
    Deny,
}

/// A program the person allowed to use a connection's token.
#[derive(Debug, Clone, Serialize, Type)]
pub struct AllowedProgram {
    pub path: String,
    pub name: String,
    /// RFC 3339.
    pub allowed_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}
