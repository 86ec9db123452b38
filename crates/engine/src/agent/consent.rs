//! Asking the person: one prompt per connection and program at a time, however many
//! requests wait on it (200 at once get one prompt); answered from the window or a
//! notification; withdrawn when no request waits on it any more (its program exited);
//! and never waited on for longer than the limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::api::{ConsentAnswer, ConsentRequest};
use crate::runtime::EventBus;
use crate::{EngineEvent, Error, Result};

#[derive(Default)]
pub(crate) struct ConsentBroker {
    /// By connection id and program path.
    prompts: Mutex<HashMap<(String, String), Arc<Prompt>>>,
}

struct Prompt {
    request: ConsentRequest,
    answer: watch::Sender<Option<ConsentAnswer>>,
    waiting: Mutex<usize>,
}

impl ConsentBroker {
    /// The person's answer to `request`, or to the prompt already open for the same
    /// connection and program; None when none came within `limit`.
    pub async fn ask(
        &self,
        events: &EventBus,
        request: ConsentRequest,
        limit: Duration,
    ) -> Option<ConsentAnswer> {
        let key = (request.connection_id.clone(), request.program.path.clone());
        let prompt = {
            let mut prompts = self.prompts.lock().expect("prompts lock");
            let prompt = prompts.entry(key.clone()).or_insert_with(|| {
                events.publish(EngineEvent::ConsentRequested { request: request.clone() });
                Arc::new(Prompt { request, answer: watch::channel(None).0, waiting: Mutex::new(0) })
            });
            *prompt.waiting.lock().expect("waiting lock") += 1;
            prompt.clone()
        };
        let _waiting = Waiting { broker: self, events, key, prompt: prompt.clone() };
        let mut answers = prompt.answer.subscribe();
        let answered = tokio::time::timeout(limit, answers.wait_for(Option::is_some)).await;
        answered.ok().and_then(|answer| answer.ok().and_then(|answer| *answer))
    }

    /// Answers the open prompt `id`; every request waiting on it gets the answer.
    pub fn answer(&self, events: &EventBus, id: &str, answer: ConsentAnswer) -> Result<ConsentRequest> {
        let prompt = {
            let mut prompts = self.prompts.lock().expect("prompts lock");
            let key = prompts.iter().find(|(_, p)| p.request.id == id).map(|(key, _)| key.clone());
            key.and_then(|key| prompts.remove(&key))
        };
        let prompt =
            prompt.ok_or_else(|| Error::NotFound { what: "request for a token", key: id.to_owned() })?;
        prompt.answer.send_replace(Some(answer));
        events.publish(EngineEvent::ConsentEnded { id: id.to_owned() });
        Ok(prompt.request.clone())
    }

    /// The prompts open now, oldest first.
    pub fn pending(&self) -> Vec<ConsentRequest> {
        let prompts = self.prompts.lock().expect("prompts lock");
        let mut pending: Vec<ConsentRequest> = prompts.values().map(|p| p.request.clone()).collect();
        pending.sort_by_key(|request| request.asked_at);
        pending
    }
}

/// One request waiting on a prompt; the last one to stop waiting withdraws it.
struct Waiting<'a> {
    broker: &'a ConsentBroker,
    events: &'a EventBus,
    key: (String, String),
    prompt: Arc<Prompt>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut prompts = self.broker.prompts.lock().expect("prompts lock");
        let mut waiting = self.prompt.waiting.lock().expect("waiting lock");
        *waiting -= 1;
        let still_open = prompts.get(&self.key).is_some_and(|open| Arc::ptr_eq(open, &self.prompt));
        if *waiting == 0 && still_open {
            prompts.remove(&self.key);
            self.events.publish(EngineEvent::ConsentEnded { id: self.prompt.request.id.clone() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Program;
    use crate::Timestamp;

    fn request(id: &str) -> ConsentRequest {
        ConsentRequest {
            id: id.into(),
            connection_id: "c1".into(),
            connection_name: "GitHub".into(),
            program: Program {
                path: "/usr/bin/git".into(),
                name: "git".into(),
                command_line: "git push".into(),
                working_dir: None,
                started_from: Some("bash".into()),
            },
            can_allow_always: true,
            // One second apart, in the order of their ids.
            asked_at: Timestamp::parse("2026-12-05T00:00:00Z").unwrap()
                + Duration::from_secs(id.parse().unwrap()),
        }
    }

    #[tokio::test]
    async fn many_requests_share_one_prompt_and_its_answer() {
        let (broker, events) = (Arc::new(ConsentBroker::default()), EventBus::new());
        let mut announced = events.subscribe();
        let waiters: Vec<_> = (0..200)
            .map(|i| {
                let (broker, events) = (broker.clone(), events.clone());
                tokio::spawn(async move {
                    broker.ask(&events, request(&i.to_string()), Duration::from_secs(10)).await
                })
            })
            .collect();
        while broker.pending().is_empty() {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let open = broker.pending();
        assert_eq!(open.len(), 1, "one prompt for 200 requests");
        broker.answer(&events, &open[0].id, ConsentAnswer::AllowOnce).unwrap();
        for waiter in waiters {
            assert_eq!(waiter.await.unwrap(), Some(ConsentAnswer::AllowOnce));
        }
        let requested = std::iter::from_fn(|| announced.try_recv().ok())
            .filter(|e| matches!(e, EngineEvent::ConsentRequested { .. }))
            .count();
        assert_eq!(requested, 1);
        assert!(broker.answer(&events, &open[0].id, ConsentAnswer::Deny).is_err(), "answered once");
    }

    #[tokio::test]
    async fn a_prompt_nobody_waits_on_is_withdrawn() {
        let (broker, events) = (ConsentBroker::default(), EventBus::new());
        let mut announced = events.subscribe();
        let unanswered = broker.ask(&events, request("1"), Duration::from_millis(50)).await;
        assert_eq!(unanswered, None);
        assert!(broker.pending().is_empty());
        assert!(matches!(announced.try_recv(), Ok(EngineEvent::ConsentRequested { .. })));
        assert!(matches!(announced.try_recv(), Ok(EngineEvent::ConsentEnded { .. })));

        // A caller that goes away (its future dropped) withdraws the prompt too.
        let gone = tokio::time::timeout(
            Duration::from_millis(50),
            broker.ask(&events, request("2"), Duration::from_secs(60)),
        )
        .await;
        assert!(gone.is_err());
        assert!(broker.pending().is_empty());
    }
}
