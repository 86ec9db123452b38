//! Changes the engine announces; the shell re-emits them to the window.

use tokio::sync::broadcast;

use crate::EngineEvent;

#[derive(Clone)]
pub struct EventBus(broadcast::Sender<EngineEvent>);

impl EventBus {
    pub fn new() -> Self {
        EventBus(broadcast::channel(64).0)
    }

    pub fn publish(&self, event: EngineEvent) {
        // No subscriber (the CLI) is fine: the event is also in the store's log.
        let _ = self.0.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.0.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
