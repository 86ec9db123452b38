//! A credential's life: connecting (sign-in or API key), keeping it, refresh, its
//! status, checks with the provider, removal and revocation.

mod addresses;
pub mod api_key;
pub mod check;
pub mod connect;
mod discard;
mod naming;
mod refresh;
pub mod revoke;
mod save;
mod sign_in;
mod status;

pub(crate) use refresh::RefreshLocks;
pub use save::GrantTimes;
pub(crate) use status::shown_status;
