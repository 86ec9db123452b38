//! Changes the engine announces; the shell re-emits them to the window.

use serde::Serialize;
use specta::Type;

use crate::api::ConsentRequest;
use crate::ErrorPayload;

#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EngineEvent {
    ConnectionsChanged,
    ProvidersChanged,
    FlowCompleted {
        flow_id: String,
        connection_id: String,
    },
    FlowFailed {
        flow_id: String,
        error: ErrorPayload,
    },
    /// A program asks for a connection's token: the person is asked.
    ConsentRequested {
        request: ConsentRequest,
    },
    /// The request was answered, timed out, or its program stopped waiting.
    ConsentEnded {
        id: String,
    },
    /// The token agent gave a program the connection's token (who used it changed).
    TokenHandedOut {
        connection_id: String,
    },
    /// Events were missed (a burst outran their reader): every list is to be read again.
    EventsMissed,
}
