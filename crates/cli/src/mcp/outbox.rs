//! What goes to the AI client (stdout): one JSON-RPC message per line, nothing else, and
//! exactly one answer per request. The requests still owed an answer are kept here, so
//! the bridge can answer them all when it must stop, and a late answer to a request the
//! bridge already answered (with an error) or the client cancelled is dropped.
//!
//! A thread of its own writes: a client that stops reading blocks only that thread,
//! never the runtime, and the process can still exit.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::AbortHandle;

use super::jsonrpc::{error_answer, ErrorKind, Id, ServerMessage};

/// Lines waiting for the writer; senders wait when it is full.
const QUEUE: usize = 256;

enum Out {
    Line(String),
    Close(oneshot::Sender<()>),
}

pub struct Outbox {
    lines: mpsc::Sender<Out>,
    /// Requests owed an answer, with the task that forwards each (to cancel it).
    pending: Mutex<HashMap<Id, Option<AbortHandle>>>,
    /// Told when stdout is gone (the client closed it).
    closed: std::sync::Arc<Notify>,
}

impl Outbox {
    /// Starts writing to `stdout`.
    pub fn start<W: Write + Send + 'static>(stdout: W) -> Outbox {
        let (lines, receiver) = mpsc::channel(QUEUE);
        let closed = std::sync::Arc::new(Notify::new());
        let told = closed.clone();
        std::thread::Builder::new()
            .name("mcp-stdout".into())
            .spawn(move || {
                write_lines(receiver, stdout);
                told.notify_one();
            })
            .expect("a thread for stdout");
        Outbox { lines, pending: Mutex::new(HashMap::new()), closed }
    }

    /// Resolves once stdout can no longer be written.
    pub async fn closed(&self) {
        self.closed.notified().await;
    }

    /// The client sent these requests; each is owed one answer.
    pub fn expect(&self, ids: &[Id]) {
        let mut pending = self.pending.lock().expect("pending lock");
        for id in ids {
            pending.insert(id.clone(), None);
        }
    }

    /// The task forwarding request `id`, for [`Outbox::cancel`].
    pub fn forwarded_by(&self, id: &Id, task: AbortHandle) {
        if let Some(slot) = self.pending.lock().expect("pending lock").get_mut(id) {
            *slot = Some(task);
        }
    }

    /// The client gave up on request `id`: it expects no answer, and its task stops.
    pub fn cancel(&self, id: &Id) {
        if let Some(Some(task)) = self.pending.lock().expect("pending lock").remove(id) {
            task.abort();
        }
    }

    /// How many requests are still owed an answer.
    #[cfg(test)]
    pub fn owed(&self) -> usize {
        self.pending.lock().expect("pending lock").len()
    }

    /// A message from the server. An answer goes out only when its request is still owed
    /// one; a batch of answers goes out when any of them is.
    pub async fn message(&self, message: &ServerMessage) {
        let wanted = message.answers.is_empty() || {
            let mut pending = self.pending.lock().expect("pending lock");
            message.answers.iter().fold(false, |any, answer| pending.remove(&answer.id).is_some() | any)
        };
        if wanted {
            self.send(message.line.clone()).await;
        } else {
            tracing::debug!("dropped an answer to a request already answered or cancelled");
        }
    }

    /// Answers request `id` with an error, unless it was answered meanwhile.
    pub async fn error(&self, id: &Id, kind: ErrorKind, text: &str) {
        if self.pending.lock().expect("pending lock").remove(id).is_some() {
            self.send(error_answer(id, kind, text)).await;
        }
    }

    /// Answers every request still owed an answer with an error.
    pub async fn error_all(&self, kind: ErrorKind, text: &str) {
        let owed: Vec<(Id, Option<AbortHandle>)> =
            self.pending.lock().expect("pending lock").drain().collect();
        for (id, task) in owed {
            if let Some(task) = task {
                task.abort();
            }
            self.send(error_answer(&id, kind, text)).await;
        }
    }

    async fn send(&self, line: String) {
        // The writer is gone only when stdout is; the bridge is stopping then.
        let _ = self.lines.send(Out::Line(line)).await;
    }

    /// Writes out what is queued, waiting at most `wait` for a client that reads slowly
    /// (or not at all: the process may exit with the writer still blocked).
    pub async fn flush_and_close(&self, wait: Duration) {
        let (done, flushed) = oneshot::channel();
        let _ = tokio::time::timeout(wait, async {
            if self.lines.send(Out::Close(done)).await.is_ok() {
                let _ = flushed.await;
            }
        })
        .await;
    }
}

fn write_lines(mut receiver: mpsc::Receiver<Out>, mut stdout: impl Write) {
    while let Some(out) = receiver.blocking_recv() {
        match out {
            Out::Line(line) => {
                let written = stdout.write_all(line.as_bytes()).and_then(|()| stdout.write_all(b"\n"));
                // Flush once nothing else is waiting: a burst costs one write to the pipe.
                let flushed =
                    written.and_then(|()| if receiver.is_empty() { stdout.flush() } else { Ok(()) });
                if flushed.is_err() {
                    return;
                }
            }
            Out::Close(done) => {
                let _ = stdout.flush();
                let _ = done.send(());
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::sync::Arc;

    fn server(message: Value) -> ServerMessage {
        ServerMessage::parse(&message.to_string(), None).unwrap()
    }

    /// A `Write` whose bytes a test can read.
    #[derive(Clone, Default)]
    pub struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        pub fn lines(&self) -> Vec<Value> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
        }
    }

    #[tokio::test]
    async fn each_request_gets_one_answer() {
        let stdout = Captured::default();
        let outbox = Outbox::start(stdout.clone());
        outbox.expect(&[Id::from_json("1"), Id::from_json("2"), Id::from_json("3")]);
        outbox
            .message(&server(
                json!({"jsonrpc":"2.0","method":"notifications/message","params":{"data":"a\nb"}}),
            ))
            .await;
        outbox.message(&server(json!({"jsonrpc":"2.0","id":1,"result":{}}))).await;
        outbox.message(&server(json!({"jsonrpc":"2.0","id":1,"result":{"again":true}}))).await;
        outbox.error(&Id::from_json("2"), ErrorKind::Server, "down").await;
        outbox.message(&server(json!({"jsonrpc":"2.0","id":2,"result":{"late":true}}))).await;
        outbox.cancel(&Id::from_json("3"));
        outbox.message(&server(json!({"jsonrpc":"2.0","id":3,"result":{}}))).await;
        assert_eq!(outbox.owed(), 0);
        outbox.flush_and_close(Duration::from_secs(5)).await;
        let lines = stdout.lines();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0]["params"]["data"], "a\nb");
        assert_eq!(lines[1], json!({"jsonrpc":"2.0","id":1,"result":{}}));
        assert_eq!(lines[2]["error"]["message"], "down");
    }

    #[tokio::test]
    async fn stopping_answers_every_request_still_owed() {
        let stdout = Captured::default();
        let outbox = Outbox::start(stdout.clone());
        outbox.expect(&[Id::from_json("\"a\""), Id::from_json("\"b\"")]);
        outbox.message(&server(json!({"jsonrpc":"2.0","id":"a","result":{}}))).await;
        outbox.error_all(ErrorKind::SignInAgain, "sign in").await;
        outbox.flush_and_close(Duration::from_secs(5)).await;
        let lines = stdout.lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["id"], "b");
        assert_eq!(lines[1]["error"]["code"], -32001);
    }
}
