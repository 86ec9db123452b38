//! Authorization flows: one running attempt per `connect`, with cancel and a time limit.

mod browser;
mod device;
mod exchange;
mod id_token;
mod listener;
mod quirks;

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::oneshot;

pub use browser::Browser;
pub(crate) use device::{device_authorization, DeviceAuthorization};
pub(crate) use exchange::{
    authorization, identity, oauth_client, require_access_token, token_endpoint, token_error, tokens_of,
    Authorization, AuthorizationRequest, Grant, Identity,
};
pub(crate) use id_token::{Expected, IdTokenError, SigningKeys};
pub(crate) use listener::{Callback, CallbackListener};

/// Running flows by id; dropping a sender (or sending) cancels the flow.
#[derive(Default)]
pub(crate) struct RunningFlows(Mutex<HashMap<String, oneshot::Sender<()>>>);

impl RunningFlows {
    pub fn insert(&self, flow_id: &str) -> oneshot::Receiver<()> {
        let (cancel_tx, cancel_rx) = oneshot::channel();
        self.lock().insert(flow_id.to_owned(), cancel_tx);
        cancel_rx
    }

    /// Returns false when no such flow is running.
    pub fn cancel(&self, flow_id: &str) -> bool {
        self.lock().remove(flow_id).map(|cancel| cancel.send(())).is_some()
    }

    pub fn finished(&self, flow_id: &str) {
        self.lock().remove(flow_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<()>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
