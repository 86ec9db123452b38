//! The bridge's life: read the AI client's messages, forward each (requests at the same
//! time, so a long answer never holds up the next request), and stop when the client
//! closes stdin (ending the session at the server) or when the connection needs the
//! person to sign in again (answering every open request with that, exit code 3).

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use grantkeeper_engine::{Error, ErrorCode};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use url::Url;

use super::jsonrpc::{ClientMessage, ErrorKind, Id};
use super::outbox::Outbox;
use super::remote::Remote;
use super::stdin::Line;
use super::tokens::Tokens;

/// How long `initialize` and a notification may take: the next message waits for them.
const INITIALIZE_WAIT: Duration = Duration::from_secs(60);
const NOTIFICATION_WAIT: Duration = Duration::from_secs(30);
/// Requests forwarded at once; more are answered with an error at once.
const MOST_AT_ONCE: usize = 256;
/// After stdin ends: how long requests still going may finish, and how long ending the
/// session and writing out the last answers may take.
const FINISH_WAIT: Duration = Duration::from_secs(10);
const GOODBYE_WAIT: Duration = Duration::from_secs(5);
/// The largest message the client may send.
pub const LINE_LIMIT: usize = super::sse::EVENT_LIMIT;

/// Where the bridge forwards to.
pub struct Target {
    /// The connection's resource URL: the MCP server's endpoint.
    pub url: Url,
    /// The connection's name, for messages.
    pub name: String,
}

/// What the bridge's tasks share.
pub struct Bridge<T> {
    pub(super) remote: Remote<T>,
    pub(super) outbox: Outbox,
    /// The first error that ends the bridge.
    fatal: mpsc::UnboundedSender<Error>,
    /// The task listening to the server's own event stream.
    pub(super) listener: Mutex<Option<AbortHandle>>,
    /// Held while a forgotten session is started again.
    pub(super) restarting: tokio::sync::Mutex<()>,
    /// Numbers the bridge's own requests (a new session's `initialize`).
    pub(super) own_requests: AtomicU64,
}

impl<T: Tokens> Bridge<T> {
    /// A message over the limit is not passed on; a request among them gets an error
    /// answer rather than a wait for ever.
    async fn refuse_too_long(&self, id: Option<Id>) {
        let mib = LINE_LIMIT / (1024 * 1024);
        let text = format!("the message is over {mib} MiB, more than Grantkeeper passes on to the server");
        eprintln!("grantkeeper: skipped a message from the AI client: {text}");
        if let Some(id) = id {
            self.outbox.expect(std::slice::from_ref(&id));
            self.outbox.error(&id, ErrorKind::TooLarge, &format!("Grantkeeper: {text}")).await;
        }
    }

    /// Stops the bridge: the connection needs the person.
    pub(super) fn stop(&self, error: Error) {
        let _ = self.fatal.send(error);
    }
}

/// Runs the bridge until the client closes `stdin` (Ok) or the connection needs the
/// person (Err, after every open request was answered with why).
pub async fn run<T: Tokens>(
    target: Target,
    tokens: T,
    http: reqwest::Client,
    mut stdin: mpsc::Receiver<std::io::Result<Line>>,
    stdout: impl std::io::Write + Send + 'static,
) -> Result<(), Error> {
    let (fatal, mut stopped) = mpsc::unbounded_channel();
    let bridge = Arc::new(Bridge {
        remote: Remote::new(http, target.url, target.name, tokens),
        outbox: Outbox::start(stdout),
        fatal,
        listener: Mutex::new(None),
        restarting: tokio::sync::Mutex::new(()),
        own_requests: AtomicU64::new(0),
    });
    // The token is read (or refreshed, or asked for) while the client is still starting;
    // an answer that ends the bridge (the person denied the client) ends it, rather than
    // the first request asking the person again.
    let warming = bridge.clone();
    tokio::spawn(async move {
        if let Some(error) = warming.remote.warm_up().await {
            warming.stop(error);
        }
    });

    let mut requests = JoinSet::new();
    let mut terminated = terminate_signal();
    let ended = loop {
        tokio::select! {
            biased;
            Some(error) = stopped.recv() => break Err(error),
            () = bridge.outbox.closed() => break Ok(()),
            _ = &mut terminated => break Ok(()),
            Some(_) = requests.join_next(), if !requests.is_empty() => {}
            line = stdin.recv() => match line {
                Some(Ok(Line::Message(line))) => bridge.dispatch(line, &mut requests).await,
                Some(Ok(Line::TooLong { id })) => bridge.refuse_too_long(id).await,
                Some(Err(error)) => {
                    eprintln!("grantkeeper: could not read from the AI client: {error}");
                    break Ok(());
                }
                None => {
                    let finished = async { while requests.join_next().await.is_some() {} };
                    tokio::select! {
                        Some(error) = stopped.recv() => break Err(error),
                        _ = tokio::time::timeout(FINISH_WAIT, finished) => break Ok(()),
                        _ = &mut terminated => break Ok(()),
                    }
                }
            },
        }
    };
    requests.abort_all();
    finish(&bridge, ended, stdin).await
}

/// Ends the bridge: on a clean stop the session is ended at the server; on a fatal
/// error every request still owed an answer gets it.
async fn finish<T: Tokens>(
    bridge: &Bridge<T>,
    ended: Result<(), Error>,
    mut stdin: mpsc::Receiver<std::io::Result<Line>>,
) -> Result<(), Error> {
    if let Some(listener) = bridge.listener.lock().expect("listener lock").take() {
        listener.abort();
    }
    match ended {
        Ok(()) => {
            let _ = tokio::time::timeout(GOODBYE_WAIT, bridge.remote.end_session()).await;
            bridge.outbox.flush_and_close(GOODBYE_WAIT).await;
            Ok(())
        }
        Err(error) => {
            // Requests the client already sent are owed the same answer.
            while let Ok(Ok(Line::Message(line))) = stdin.try_recv() {
                if let Ok(message) = ClientMessage::parse(&line) {
                    bridge.outbox.expect(&message.requests);
                }
            }
            let kind = match error.code() {
                ErrorCode::NotFound => ErrorKind::Server,
                _ => ErrorKind::SignInAgain,
            };
            let text = format!("Grantkeeper: {error}");
            let _ = tokio::time::timeout(GOODBYE_WAIT, bridge.outbox.error_all(kind, &text)).await;
            bridge.outbox.flush_and_close(GOODBYE_WAIT).await;
            Err(error)
        }
    }
}

/// Resolves on SIGTERM (a client that stops its server without closing stdin first).
fn terminate_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        return Box::pin(async move {
            signal.recv().await;
        });
    }
    Box::pin(std::future::pending())
}

impl<T: Tokens> Bridge<T> {
    /// Forwards one line from the client: `initialize` and notifications in order (the
    /// next message waits for them), requests each in a task of their own.
    async fn dispatch(self: &Arc<Self>, line: Vec<u8>, requests: &mut JoinSet<()>) {
        let message = match ClientMessage::parse(&line) {
            Ok(message) => message,
            Err(why) => {
                eprintln!("grantkeeper: skipped a line from the AI client: {why}");
                return;
            }
        };
        for id in &message.cancelled {
            self.outbox.cancel(id);
        }
        self.outbox.expect(&message.requests);
        let body = Bytes::from(line);
        if message.initialize.is_none() && message.has_requests() {
            if requests.len() >= MOST_AT_ONCE {
                let text =
                    format!("Grantkeeper: more than {MOST_AT_ONCE} requests are waiting for the server");
                for id in &message.requests {
                    self.outbox.error(id, ErrorKind::Server, &text).await;
                }
                return;
            }
            let bridge = self.clone();
            let ids = message.requests.clone();
            let task = requests.spawn(async move { bridge.forward(body, &message).await });
            if let [id] = &ids[..] {
                self.outbox.forwarded_by(id, task);
            }
            return;
        }
        let wait = if message.initialize.is_some() { INITIALIZE_WAIT } else { NOTIFICATION_WAIT };
        if tokio::time::timeout(wait, self.forward(body, &message)).await.is_err() {
            let text = format!("the server did not answer within {} seconds", wait.as_secs());
            eprintln!("grantkeeper: {text}");
            for id in &message.requests {
                self.outbox.error(id, ErrorKind::Server, &format!("Grantkeeper: {text}")).await;
            }
        }
    }
}
