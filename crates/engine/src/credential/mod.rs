//! A credential's life: connecting (sign-in or API key), refresh, checks with the
//! provider, removal and revocation.

pub mod api_key;
pub mod check;
pub mod connect;
mod refresh;
pub mod revoke;

pub(crate) use refresh::RefreshLocks;
