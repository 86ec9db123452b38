//! The MCP session with the server (Streamable HTTP): the `Mcp-Session-Id` its
//! `initialize` answer gave, the protocol version that answer agreed on (both sent on
//! every later request), and the client's `initialize` params, so a session the server
//! forgot can be started again. Each `initialize` starts a new generation.

use std::sync::Mutex;

use reqwest::header::HeaderValue;
use serde_json::Value;

/// Longest session id and protocol version kept (the server chooses them).
const LONGEST_ID: usize = 1024;
const LONGEST_VERSION: usize = 64;

#[derive(Default)]
pub struct Session(Mutex<State>);

#[derive(Default, Clone)]
struct State {
    id: Option<HeaderValue>,
    protocol_version: Option<HeaderValue>,
    generation: u64,
    initialize_params: Option<Value>,
}

/// What a request sends: the session's headers as they were when it was sent.
#[derive(Clone, Debug, Default)]
pub struct Current {
    pub id: Option<HeaderValue>,
    pub protocol_version: Option<HeaderValue>,
    pub generation: u64,
}

impl Session {
    pub fn current(&self) -> Current {
        let state = self.0.lock().expect("session lock");
        Current {
            id: state.id.clone(),
            protocol_version: state.protocol_version.clone(),
            generation: state.generation,
        }
    }

    /// An `initialize` request is about to go out: the old session is over.
    pub fn begin(&self, params: Value) -> u64 {
        let mut state = self.0.lock().expect("session lock");
        state.generation += 1;
        state.id = None;
        state.protocol_version = None;
        state.initialize_params = Some(params);
        state.generation
    }

    /// The server answered the `initialize` of `generation` with this session id (if
    /// any). An id that is not visible ASCII (MCP: 0x21–0x7E) is not kept.
    pub fn started(&self, generation: u64, id: Option<&HeaderValue>) -> Result<(), &'static str> {
        let mut state = self.0.lock().expect("session lock");
        if state.generation != generation {
            return Ok(());
        }
        state.id = None;
        let Some(id) = id else { return Ok(()) };
        let visible = id.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b));
        if !visible || id.is_empty() || id.len() > LONGEST_ID {
            return Err("the server's session id is not visible ASCII");
        }
        state.id = Some(id.clone());
        Ok(())
    }

    /// The `initialize` result of `generation` agreed on `version`.
    pub fn agreed(&self, generation: u64, version: &str) -> Result<(), &'static str> {
        let plain = version.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !plain || version.is_empty() || version.len() > LONGEST_VERSION {
            return Err("the server's protocol version is not a version");
        }
        let mut state = self.0.lock().expect("session lock");
        if state.generation == generation {
            state.protocol_version = HeaderValue::from_str(version).ok();
        }
        Ok(())
    }

    pub fn generation(&self) -> u64 {
        self.0.lock().expect("session lock").generation
    }

    /// The params of the client's last `initialize`, to start a new session with.
    pub fn initialize_params(&self) -> Option<Value> {
        self.0.lock().expect("session lock").initialize_params.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_initialize_forgets_the_old_session() {
        let session = Session::default();
        assert!(session.current().id.is_none());
        let first = session.begin(serde_json::json!({"protocolVersion": "2025-06-18"}));
        session.started(first, Some(&HeaderValue::from_static("abc-123"))).unwrap();
        session.agreed(first, "2025-06-18").unwrap();
        let current = session.current();
        assert_eq!(current.id.unwrap(), "abc-123");
        assert_eq!(current.protocol_version.unwrap(), "2025-06-18");

        let second = session.begin(serde_json::json!({}));
        assert!(session.current().id.is_none() && session.current().protocol_version.is_none());
        // A late answer to the first initialize changes nothing.
        session.started(first, Some(&HeaderValue::from_static("old"))).unwrap();
        session.agreed(first, "2024-11-05").unwrap();
        assert!(session.current().id.is_none() && session.current().protocol_version.is_none());
        session.started(second, None).unwrap();
        assert_eq!(session.initialize_params().unwrap(), serde_json::json!({}));
    }

    #[test]
    fn odd_ids_and_versions_are_not_kept() {
        let session = Session::default();
        let generation = session.begin(Value::Null);
        assert!(session.started(generation, Some(&HeaderValue::from_static("has space"))).is_err());
        assert!(session
            .started(generation, Some(&HeaderValue::from_str(&"x".repeat(2000)).unwrap()))
            .is_err());
        assert!(session.current().id.is_none());
        assert!(session.agreed(generation, "2025-06-18\r\nX-Evil: 1").is_err());
        assert!(session.agreed(generation, "").is_err());
        assert!(session.current().protocol_version.is_none());
    }
}
