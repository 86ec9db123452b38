//! The server's own messages (requests and notifications not tied to a client request),
//! on the event stream a GET opens once the session is initialized. A server that offers
//! none answers 405; a stream that ends is opened again (with `Last-Event-ID`), a few
//! times at most while nothing comes.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::bridge::Bridge;
use super::jsonrpc::ServerMessage;
use super::remote::{describe, Failure};
use super::sse::{events, EVENT_LIMIT};
use super::tokens::Tokens;

/// Times in a row the stream may fail or end empty before the bridge stops listening.
const ATTEMPTS: u32 = 5;
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The shortest wait honoured when the server names one (`retry`).
pub(super) const SHORTEST_WAIT: Duration = Duration::from_millis(250);
const LONGEST_WAIT: Duration = Duration::from_secs(30);

impl<T: Tokens> Bridge<T> {
    /// Listens to the current session's stream, instead of any earlier one.
    pub(super) fn listen(self: &Arc<Self>) {
        let bridge = self.clone();
        let generation = self.remote.session.generation();
        let task = tokio::spawn(async move { bridge.listen_to(generation).await });
        if let Some(earlier) = self.listener.lock().expect("listener lock").replace(task.abort_handle()) {
            earlier.abort();
        }
    }

    async fn listen_to(self: Arc<Self>, generation: u64) {
        let mut last_event_id: Option<String> = None;
        let mut retry = None;
        let mut failures = 0;
        while self.remote.session.generation() == generation {
            let why = match self.remote.events(last_event_id.as_deref()).await {
                Ok(response) => {
                    let mut stream = std::pin::pin!(events(response.bytes_stream(), EVENT_LIMIT));
                    let mut heard = false;
                    let mut why = "the server closed it".to_owned();
                    while let Some(event) = stream.next().await {
                        let event = match event {
                            Ok(event) => event,
                            Err(e) => {
                                why = e.to_string();
                                break;
                            }
                        };
                        heard = true;
                        if let Some(id) = event.id {
                            last_event_id = Some(id).filter(|id| !id.is_empty());
                        }
                        retry = event.retry.or(retry);
                        match event.message.as_deref().map(|data| ServerMessage::parse(data, None)) {
                            Some(Ok(message)) => self.outbox.message(&message).await,
                            Some(Err(why)) => {
                                eprintln!("grantkeeper: skipped an event from the server: {why}")
                            }
                            None => {}
                        }
                    }
                    if heard {
                        failures = 0;
                    }
                    why
                }
                // The server offers no stream of its own, or no longer knows the session
                // (the next request starts a new one, and listens again).
                Err(Failure::Status { status: 405, .. } | Failure::SessionGone(_)) => return,
                Err(Failure::SignIn(error)) => return self.stop(error),
                Err(failure @ Failure::MoreAccess(_)) => {
                    return eprintln!(
                        "grantkeeper: not listening for the server's own messages: {}",
                        describe(&failure)
                    );
                }
                Err(failure) => describe(&failure),
            };
            failures += 1;
            if failures >= ATTEMPTS {
                eprintln!("grantkeeper: stopped listening for the server's own messages: {why}");
                return;
            }
            let backoff = FIRST_WAIT * 2u32.pow(failures - 1);
            tokio::time::sleep(retry.unwrap_or(backoff).clamp(SHORTEST_WAIT, LONGEST_WAIT)).await;
        }
    }
}
