//! One client message to the server and the server's answer back: a JSON body, or an
//! event stream read until every request in the message is answered (picked up again
//! with `Last-Event-ID` when the server closes it early). A session the server forgot is
//! started again once, with the client's own `initialize` params.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::bridge::Bridge;
use super::jsonrpc::{Answer, ClientMessage, ErrorKind, Id, ServerMessage};
use super::remote::{describe, Failure, Reply};
use super::sse::{events, EVENT_LIMIT};
use super::text::shell_word;
use super::tokens::Tokens;

/// Times a broken-off event stream is picked up again without a new event coming.
const RESUMPTIONS: u32 = 3;
/// The wait before picking a stream up again when the server named none (`retry`), and
/// the longest wait honoured.
const RESUME_AFTER: Duration = Duration::from_secs(1);
const LONGEST_RESUME_WAIT: Duration = Duration::from_secs(30);
/// What a request is answered when the server forgot the session and a new one could
/// not be started.
const SESSION_GONE: &str =
    "the MCP server ended the session and did not start a new one; restart this server in your AI client";
/// How long starting a new session for a forgotten one may take.
const RESTART_WAIT: Duration = Duration::from_secs(30);

impl<T: Tokens> Bridge<T> {
    /// Forwards `body` (the client's line) and delivers what comes back.
    pub(super) async fn forward(self: &Arc<Self>, body: Bytes, message: &ClientMessage) {
        let initialize =
            message.initialize.as_ref().map(|(id, params)| (id, self.remote.session.begin(params.clone())));
        let mut restarted = false;
        loop {
            match self.remote.post(body.clone(), initialize.map(|(_, generation)| generation)).await {
                Ok(reply) => {
                    if message.initialized {
                        self.listen();
                    }
                    let initialize = initialize.map(|(id, generation)| (id.clone(), generation));
                    return self.deliver(reply, message, initialize).await;
                }
                Err(Failure::SessionGone(generation)) if !restarted && initialize.is_none() => {
                    restarted = true;
                    if self.restart_session(generation).await {
                        continue;
                    }
                    return self.fail(&message.requests, Failure::SessionGone(generation)).await;
                }
                Err(failure) => return self.fail(&message.requests, failure).await,
            }
        }
    }

    /// Delivers the server's answer; requests it leaves unanswered get an error.
    async fn deliver(&self, reply: Reply, message: &ClientMessage, initialize: Option<(Id, u64)>) {
        let mut owed: HashSet<Id> = message.requests.iter().cloned().collect();
        if owed.is_empty() {
            // Notifications and answers to the server: nothing comes back (202).
            return;
        }
        let failure = match reply {
            // Streamable HTTP answers a request with JSON or an event stream, never 202
            // or nothing: the client would wait for it for ever.
            Reply::Accepted => Failure::Other("the server accepted the request without answering it".into()),
            Reply::Json(body) => match std::str::from_utf8(&body) {
                Ok(text) => match self.pass_on(text, &mut owed, initialize.as_ref()).await {
                    Ok(()) if owed.is_empty() => return,
                    Ok(()) => Failure::Other("the server's answer left out a request".into()),
                    Err(why) => Failure::Other(format!("the server's answer is {why}")),
                },
                Err(_) => Failure::Other("the server's answer is not UTF-8".into()),
            },
            Reply::Events(response) => match self.read_stream(response, &mut owed, initialize.as_ref()).await
            {
                Ok(()) => return,
                Err(failure) => failure,
            },
            Reply::Unexpected(media_type) => {
                Failure::Other(format!("the server answered with {media_type}, not JSON or an event stream"))
            }
        };
        let owed: Vec<Id> = owed.into_iter().collect();
        self.fail(&owed, failure).await;
    }

    /// Reads an event stream until every request in `owed` is answered, picking it up
    /// again when the server closes it early after naming an event id.
    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        owed: &mut HashSet<Id>,
        initialize: Option<&(Id, u64)>,
    ) -> Result<(), Failure> {
        let mut last_event_id: Option<String> = None;
        let mut retry = None;
        let mut resumptions = 0;
        loop {
            let mut stream = std::pin::pin!(events(response.bytes_stream(), EVENT_LIMIT));
            let mut broke_off = None;
            while let Some(event) = stream.next().await {
                let event = match event {
                    Ok(event) => event,
                    Err(e) => {
                        broke_off = Some(e.to_string());
                        break;
                    }
                };
                if let Some(id) = event.id {
                    last_event_id = Some(id).filter(|id| !id.is_empty());
                }
                retry = event.retry.or(retry);
                if let Some(data) = event.message {
                    resumptions = 0;
                    if let Err(why) = self.pass_on(&data, owed, initialize).await {
                        eprintln!("grantkeeper: skipped an event from the server: {why}");
                    }
                }
                if owed.is_empty() {
                    return Ok(());
                }
            }
            let why =
                broke_off.unwrap_or_else(|| "the server closed its event stream before answering".into());
            let (Some(from), true) = (&last_event_id, resumptions < RESUMPTIONS) else {
                return Err(Failure::Other(why));
            };
            resumptions += 1;
            tracing::debug!("{why}; picking it up again after event {from}");
            let wait = retry.unwrap_or(RESUME_AFTER).clamp(super::listen::SHORTEST_WAIT, LONGEST_RESUME_WAIT);
            tokio::time::sleep(wait).await;
            response = self.remote.events(Some(from)).await?;
        }
    }

    /// Passes a server message (or batch) on to the client, noting which owed requests
    /// it answers, and the protocol version an `initialize` answer agrees on.
    async fn pass_on(
        &self,
        text: &str,
        owed: &mut HashSet<Id>,
        initialize: Option<&(Id, u64)>,
    ) -> Result<(), String> {
        let message = ServerMessage::parse(text, initialize.map(|(id, _)| id))?;
        for answer in &message.answers {
            owed.remove(&answer.id);
            if let (Some((_, generation)), Some(version)) = (initialize, &answer.protocol_version) {
                if let Err(why) = self.remote.session.agreed(*generation, version) {
                    eprintln!("grantkeeper: {why}; going on without it");
                }
            }
        }
        self.outbox.message(&message).await;
        Ok(())
    }

    /// Answers `requests` with what went wrong, and says it on stderr; a connection that
    /// needs the person stops the bridge, which answers every open request.
    pub(super) async fn fail(&self, requests: &[Id], failure: Failure) {
        let (kind, what) = match failure {
            Failure::SignIn(error) => return self.stop(error),
            Failure::MoreAccess(scopes) => (ErrorKind::NeedsMoreAccess, self.more_access_text(&scopes)),
            Failure::SessionGone(_) => (ErrorKind::Server, SESSION_GONE.to_owned()),
            other => {
                (ErrorKind::Server, format!("could not use {}: {}", self.remote.url(), describe(&other)))
            }
        };
        eprintln!("grantkeeper: {what}");
        let text = format!("Grantkeeper: {what}");
        for id in requests {
            self.outbox.error(id, kind, &text).await;
        }
    }

    fn more_access_text(&self, scopes: &[String]) -> String {
        let name = self.remote.name();
        let asked = match scopes {
            [] => String::new(),
            scopes => format!(" ({})", scopes.join(" ")),
        };
        let command = format!("grantkeeper grant-access {}", shell_word(name));
        format!(
            "“{name}” needs more access{asked} for this. Grant it with `{command}` or Grant access in the \
             Grantkeeper window, then try again."
        )
    }

    /// Starts a new session after the server forgot the one of `generation` (HTTP 404),
    /// unless another request already did: the client's `initialize` params again, then
    /// `notifications/initialized`. Whether requests can be sent again.
    async fn restart_session(self: &Arc<Self>, generation: u64) -> bool {
        let _one_at_a_time = self.restarting.lock().await;
        if self.remote.session.generation() != generation {
            return true;
        }
        let Some(params) = self.remote.session.initialize_params() else { return false };
        eprintln!("grantkeeper: the MCP server ended the session; starting a new one");
        let restarted = tokio::time::timeout(RESTART_WAIT, self.initialize_again(params)).await;
        match restarted {
            Ok(Ok(())) => true,
            Ok(Err(failure)) => {
                if let Failure::SignIn(_) = failure {
                    self.fail(&[], failure).await;
                } else {
                    eprintln!("grantkeeper: could not start a new session: {}", describe(&failure));
                }
                false
            }
            Err(_) => {
                eprintln!(
                    "grantkeeper: the server did not start a new session within {} seconds",
                    RESTART_WAIT.as_secs()
                );
                false
            }
        }
    }

    async fn initialize_again(self: &Arc<Self>, params: Value) -> Result<(), Failure> {
        let number = self.own_requests.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("grantkeeper-session-{number}");
        let request = json!({ "jsonrpc": "2.0", "id": id, "method": "initialize", "params": params });
        let generation = self.remote.session.begin(params);
        let reply = self.remote.post(Bytes::from(request.to_string()), Some(generation)).await?;
        let answer = own_answer(reply, &Id::from_json(&Value::from(id).to_string())).await?;
        if answer.is_error {
            return Err(Failure::Other("the server refused to start a new session".into()));
        }
        if let Some(version) = &answer.protocol_version {
            self.remote.session.agreed(generation, version).map_err(|why| Failure::Other(why.into()))?;
        }
        let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        self.remote.post(Bytes::from(initialized.to_string()), None).await?;
        self.listen();
        Ok(())
    }
}

/// The answer to the bridge's own request `id`, from a JSON body or an event stream;
/// anything else the server says meanwhile belongs to no client request and is dropped.
async fn own_answer(reply: Reply, id: &Id) -> Result<Answer, Failure> {
    let find = |text: &str| {
        let message = ServerMessage::parse(text, Some(id)).ok()?;
        message.answers.into_iter().find(|answer| answer.id == *id)
    };
    let found = match reply {
        Reply::Json(body) => std::str::from_utf8(&body).ok().and_then(find),
        Reply::Events(response) => {
            let mut stream = std::pin::pin!(events(response.bytes_stream(), EVENT_LIMIT));
            let mut found = None;
            while let Some(event) = stream.next().await {
                let event = event.map_err(|e| Failure::Other(e.to_string()))?;
                found = event.message.as_deref().and_then(find);
                if found.is_some() {
                    break;
                }
            }
            found
        }
        Reply::Accepted | Reply::Unexpected(_) => None,
    };
    found.ok_or_else(|| Failure::Other("the server did not answer initialize".into()))
}
