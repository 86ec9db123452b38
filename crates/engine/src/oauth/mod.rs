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
mod port_holder;
#[cfg(all(unix, not(target_vendor = "apple")))]
mod portal;
mod quirks;
mod refresh;
mod revocation;

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::oneshot;

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
pub(crate) use identity::{identity, Identity};
pub(crate) use jwks::{check_with_keys, current_signing_keys};
pub(crate) use listener::{Callback, CallbackListener, ExpectedIssuer};
pub(crate) use refresh::{refresh_grant, RefreshRefused};
pub(crate) use revocation::{revocation_endpoint, revoke_grant};

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
