//! What runs while the app is open: the refresh scheduler, the watch on the database
//! (changes made by the CLI), the system's wake and network signals, and the bus that
//! announces changes to the window.

mod database_watch;
mod event_bus;
mod scheduler;
mod system_signals;

pub use database_watch::DatabaseWatch;
pub(crate) use event_bus::EventBus;
pub(crate) use scheduler::{next_attempt, refresh_due, CHECK_INTERVAL};
