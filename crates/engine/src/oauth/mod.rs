//! OAuth 2.0 and OpenID Connect as Grantkeeper speaks them: the authorization request,
//! the loopback listener, the device grant, token answers (code and refresh),
//! revocation, ID token checks, identity, and each provider's quirks. The running flows
//! are kept here too.

mod authorize;
mod browser;
mod challenge;
mod client;
mod device;
mod grant;
mod id_token;
mod identity;
mod jwks;
mod listener;
mod pasted;
mod port_holder;
#[cfg(all(unix, not(target_vendor = "apple")))]
mod portal;
mod quirks;
mod refresh;
mod revocation;

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

use crate::EngineEvent;

pub(crate) use authorize::{authorization, Authorization, AuthorizationRequest};
pub use browser::Browser;
pub use challenge::BearerChallenge;
// The fuzz targets reach the token endpoint's parsing as a real exchange does.
pub(crate) use client::client_auth_hint;
#[cfg(feature = "fuzzing")]
pub(crate) use client::{oauth_client, token_endpoint, token_error};
pub(crate) use device::{device_authorization, DeviceAuthorization};
pub(crate) use grant::Grant;
#[cfg(feature = "fuzzing")]
pub(crate) use id_token::SigningKeys;
pub(crate) use id_token::{Expected, IdTokenError};
pub(crate) use identity::{identity, names_an_account, Identity};
pub(crate) use jwks::{check_with_keys, current_signing_keys};
pub(crate) use listener::{Callback, CallbackListener, ExpectedIssuer};
pub(crate) use pasted::PastedAddress;
pub(crate) use refresh::{refresh_grant, RefreshRefused};
pub(crate) use revocation::{revocation_endpoint, revoke_grant};

/// How many ended flows are remembered: a window asks about the one it waits for.
const ENDS_KEPT: usize = 32;

/// Running flows by id: how to cancel each (dropping the sender, or sending, does) and
/// where to send an address the person pasted for it; and how the latest ones ended.
#[derive(Default)]
pub(crate) struct RunningFlows {
    running: Mutex<HashMap<String, RunningFlow>>,
    /// The flows that ended last, newest last, with their end events.
    ended: Mutex<VecDeque<(String, EngineEvent)>>,
}

struct RunningFlow {
    cancel: oneshot::Sender<()>,
    /// None for a sign-in by code, which has no address to come back to.
    pasted: Option<mpsc::Sender<PastedAddress>>,
}

impl RunningFlows {
    /// Registers a flow; returns what cancels it and the addresses pasted for it (none
    /// come unless `takes_addresses`).
    pub fn insert(
        &self,
        flow_id: &str,
        takes_addresses: bool,
    ) -> (oneshot::Receiver<()>, mpsc::Receiver<PastedAddress>) {
        let (cancel, cancelled) = oneshot::channel();
        let (pasted, pasted_rx) = mpsc::channel(1);
        let pasted = takes_addresses.then_some(pasted);
        self.lock().insert(flow_id.to_owned(), RunningFlow { cancel, pasted });
        (cancelled, pasted_rx)
    }

    /// Returns false when no such flow is running.
    pub fn cancel(&self, flow_id: &str) -> bool {
        self.lock().remove(flow_id).map(|flow| flow.cancel.send(())).is_some()
    }

    /// Where to send an address pasted for the flow: None when no such flow is running,
    /// Some(None) when it takes none.
    pub fn pasted(&self, flow_id: &str) -> Option<Option<mpsc::Sender<PastedAddress>>> {
        self.lock().get(flow_id).map(|flow| flow.pasted.clone())
    }

    /// The flow `flow_id` ended as its event `end` says.
    pub fn finished(&self, flow_id: &str, end: EngineEvent) {
        self.lock().remove(flow_id);
        let mut ended = self.ended.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if ended.len() == ENDS_KEPT {
            ended.pop_front();
        }
        ended.push_back((flow_id.to_owned(), end));
    }

    /// The end event of the flow `flow_id`, if it is one of the latest to end.
    pub fn end_of(&self, flow_id: &str) -> Option<EngineEvent> {
        let ended = self.ended.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        ended.iter().rev().find(|(id, _)| id == flow_id).map(|(_, end)| end.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunningFlow>> {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
