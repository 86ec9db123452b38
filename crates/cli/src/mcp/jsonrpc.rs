//! JSON-RPC 2.0 as far as the bridge needs it: which requests a client's message holds
//! (they must each get one answer), which server messages are answers, and the error
//! answers the bridge writes itself. Messages are otherwise passed through untouched.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// A request id as JSON text: `1` and `"1"` are different ids.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Id(String);

impl Id {
    fn of(value: &Value) -> Option<Id> {
        match value {
            Value::String(_) | Value::Number(_) => Some(Id(value.to_string())),
            _ => None,
        }
    }

    /// For tests and the bridge's own requests.
    pub fn from_json(text: &str) -> Id {
        Id(text.to_owned())
    }

    pub fn as_json(&self) -> &str {
        &self.0
    }
}

/// What a line from the AI client holds.
#[derive(Debug, Default)]
pub struct ClientMessage {
    /// The ids of its requests (a batch can hold several), each owed one answer.
    pub requests: Vec<Id>,
    /// It holds the `initialize` request: its id and params.
    pub initialize: Option<(Id, Value)>,
    /// It holds `notifications/initialized`.
    pub initialized: bool,
    /// The requests `notifications/cancelled` gives up on.
    pub cancelled: Vec<Id>,
}

impl ClientMessage {
    /// Reads a message (or batch) from the client; Err when it is not JSON-RPC.
    pub fn parse(line: &[u8]) -> Result<ClientMessage, String> {
        let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON ({e})"))?;
        let mut message = ClientMessage::default();
        match &value {
            Value::Array(items) if !items.is_empty() => {
                items.iter().try_for_each(|item| message.add(item))?
            }
            Value::Object(_) => message.add(&value)?,
            _ => return Err("not a JSON-RPC message or batch".into()),
        }
        Ok(message)
    }

    fn add(&mut self, item: &Value) -> Result<(), String> {
        let Some(object) = item.as_object() else {
            return Err("a batch item is not an object".into());
        };
        let Some(method) = object.get("method") else {
            return Ok(()); // a response to a server's request
        };
        let method = method.as_str().unwrap_or_default();
        match object.get("id").and_then(Id::of) {
            Some(id) => {
                if method == "initialize" {
                    let params = object.get("params").cloned().unwrap_or(Value::Null);
                    self.initialize = Some((id.clone(), params));
                }
                self.requests.push(id);
            }
            None if method == "notifications/initialized" => self.initialized = true,
            None if method == "notifications/cancelled" => {
                if let Some(id) = object.get("params").and_then(|p| p.get("requestId")).and_then(Id::of) {
                    self.cancelled.push(id);
                }
            }
            None => {}
        }
        Ok(())
    }

    /// Whether the server owes an answer (JSON or an event stream) rather than 202.
    pub fn has_requests(&self) -> bool {
        !self.requests.is_empty()
    }
}

/// The id of the request `message` holds, read without keeping the rest of it: a
/// message too large to pass on still owes its sender an answer. None for a batch, a
/// notification, an answer or what is not JSON.
pub fn request_id(message: impl std::io::Read) -> Option<Id> {
    #[derive(Deserialize)]
    struct Request {
        id: Option<Value>,
        method: Option<IgnoredAny>,
    }
    let request = Request::deserialize(&mut serde_json::Deserializer::from_reader(message)).ok()?;
    request.method?;
    Id::of(&request.id?)
}

/// A message (or batch) from the server: the line the client gets, exactly as the
/// server wrote it but for line breaks (only whitespace between tokens in valid JSON),
/// and the requests it answers.
#[derive(Debug)]
pub struct ServerMessage {
    pub line: String,
    pub answers: Vec<Answer>,
}

/// A response in a server message.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub id: Id,
    pub is_error: bool,
    /// The protocol version an `initialize` result agreed on (read only for the id the
    /// caller asked about).
    pub protocol_version: Option<String>,
}

/// What the bridge reads of each message; the rest is only checked to be JSON.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(default)]
    jsonrpc: Option<&'a str>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    method: Option<IgnoredAny>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct InitializeResult {
    #[serde(rename = "protocolVersion")]
    protocol_version: Option<String>,
}

impl ServerMessage {
    /// Reads `text`; `initialize` names the request whose result's protocol version is
    /// wanted. Err when it is not a JSON-RPC message or batch.
    pub fn parse(text: &str, initialize: Option<&Id>) -> Result<ServerMessage, String> {
        let items: Vec<Peek> = if text.trim_start().starts_with('[') {
            serde_json::from_str(text).map_err(|e| format!("not a JSON-RPC batch ({e})"))?
        } else {
            vec![serde_json::from_str(text).map_err(|e| format!("not a JSON-RPC message ({e})"))?]
        };
        let mut answers = Vec::new();
        for item in items {
            if item.jsonrpc != Some("2.0") {
                return Err("not JSON-RPC 2.0".into());
            }
            if item.method.is_some() || (item.result.is_none() && item.error.is_none()) {
                continue;
            }
            let Some(id) = item
                .id
                .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
                .and_then(|v| Id::of(&v))
            else {
                continue;
            };
            let protocol_version = match (initialize, item.result) {
                (Some(wanted), Some(result)) if *wanted == id => {
                    serde_json::from_str::<InitializeResult>(result.get())
                        .ok()
                        .and_then(|result| result.protocol_version)
                }
                _ => None,
            };
            answers.push(Answer { id, is_error: item.result.is_none(), protocol_version });
        }
        let line =
            if text.contains(['\n', '\r']) { text.replace(['\n', '\r'], " ") } else { text.to_owned() };
        Ok(ServerMessage { line, answers })
    }
}

/// The bridge's own error answers (JSON-RPC's range for implementation errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The connection needs the person to sign in again.
    SignInAgain,
    /// The server asked for scopes the grant lacks.
    NeedsMoreAccess,
    /// The server could not be reached or answered with an error.
    Server,
    /// The client's message was larger than the bridge passes on.
    TooLarge,
}

impl ErrorKind {
    pub fn code(self) -> i64 {
        match self {
            ErrorKind::SignInAgain => -32001,
            ErrorKind::NeedsMoreAccess => -32003,
            ErrorKind::Server => -32000,
            ErrorKind::TooLarge => -32600,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ErrorKind::SignInAgain => "needs_reauthorization",
            ErrorKind::NeedsMoreAccess => "needs_more_access",
            ErrorKind::Server => "server_error",
            ErrorKind::TooLarge => "too_large",
        }
    }
}

/// An error answer to request `id`, as one line of JSON.
pub fn error_answer(id: &Id, kind: ErrorKind, message: &str) -> String {
    let error = json!({ "code": kind.code(), "message": message, "data": { "grantkeeper": kind.name() } });
    format!(r#"{{"jsonrpc":"2.0","id":{},"error":{}}}"#, id.as_json(), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_requests_of_a_message_or_batch() {
        let init = ClientMessage::parse(
            br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#,
        )
        .unwrap();
        assert_eq!(init.requests, [Id::from_json("0")]);
        assert_eq!(init.initialize.as_ref().unwrap().1["protocolVersion"], "2025-06-18");

        let batch = ClientMessage::parse(
            br#"[{"jsonrpc":"2.0","id":"a","method":"tools/list"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":7,"result":{}},{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}]"#,
        )
        .unwrap();
        assert_eq!(batch.requests, [Id::from_json("\"a\"")]);
        assert!(batch.initialized && batch.initialize.is_none());
        assert_eq!(batch.cancelled, [Id::from_json("3")]);

        let response =
            ClientMessage::parse(br#"{"jsonrpc":"2.0","id":5,"result":{"action":"accept"}}"#).unwrap();
        assert!(!response.has_requests());
    }

    #[test]
    fn refuses_what_is_not_json_rpc() {
        assert!(ClientMessage::parse(b"hello").is_err());
        assert!(ClientMessage::parse(b"[]").is_err());
        assert!(ClientMessage::parse(b"[1]").is_err());
        assert!(ClientMessage::parse(b"42").is_err());
    }

    #[test]
    fn answers_are_told_from_requests() {
        let initialize = Id::from_json("\"x\"");
        let text = r#"{"jsonrpc":"2.0","id":"x","result":{"protocolVersion":"2025-11-25"}}"#;
        let answer = ServerMessage::parse(text, Some(&initialize)).unwrap();
        assert_eq!(
            answer.answers,
            [Answer { id: initialize.clone(), is_error: false, protocol_version: Some("2025-11-25".into()) }]
        );
        let other = ServerMessage::parse(
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"no"}}"#,
            Some(&initialize),
        );
        assert_eq!(
            other.unwrap().answers,
            [Answer { id: Id::from_json("1"), is_error: true, protocol_version: None }]
        );
        for not_an_answer in [
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/message","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"?"}}"#,
        ] {
            assert!(ServerMessage::parse(not_an_answer, None).unwrap().answers.is_empty(), "{not_an_answer}");
        }
        let batch = ServerMessage::parse(
            r#" [{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":"2","result":{}}]"#,
            None,
        );
        assert_eq!(batch.unwrap().answers.len(), 2);
    }

    #[test]
    fn server_messages_pass_through_as_written_on_one_line() {
        let text = "{\"jsonrpc\": \"2.0\",\r\n  \"id\": 1,\n  \"result\": {\"big\": 123456789012345678901234567890, \"s\": \"a\\nb\"}}";
        let message = ServerMessage::parse(text, None).unwrap();
        assert_eq!(
            message.line,
            "{\"jsonrpc\": \"2.0\",    \"id\": 1,   \"result\": {\"big\": 123456789012345678901234567890, \"s\": \"a\\nb\"}}"
        );
        assert!(!message.line.contains('\n'));
        assert!(ServerMessage::parse("{\"id\":1,\"result\":", None).is_err());
        assert!(ServerMessage::parse("42", None).is_err());
        assert!(ServerMessage::parse("[1]", None).is_err());
        assert!(ServerMessage::parse("{}", None).is_err());
        assert!(ServerMessage::parse(r#"{"jsonrpc":"1.0","id":1,"result":{}}"#, None).is_err());
    }

    #[test]
    fn error_answers_are_one_line_with_the_id_as_sent() {
        let line = error_answer(&Id::from_json("\"a\\nb\""), ErrorKind::SignInAgain, "sign in\nagain");
        assert!(!line.contains('\n'));
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["id"], "a\nb");
        assert_eq!(value["error"]["code"], -32001);
        assert_eq!(value["error"]["message"], "sign in\nagain");
        assert_eq!(value["error"]["data"]["grantkeeper"], "needs_reauthorization");
    }
}
