//! Logging for the app and the CLI: `tracing` events to stderr, filtered by
//! `GRANTKEEPER_LOG` (a filter such as `debug` or `grantkeeper_engine=trace`).

use tracing_subscriber::EnvFilter;

/// Sends `tracing` events to stderr as `GRANTKEEPER_LOG` says, else as `default` does.
pub fn log_to_stderr(default: &str) {
    let filter = EnvFilter::try_from_env("GRANTKEEPER_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init();
}
