//! Start-up milestones, logged at debug level to the `startup` target with the wall-clock
//! time, so `bench/launch-and-memory.py --breakdown` can line them up with the page's own
//! timings (`GRANTKEEPER_LOG=startup=debug` shows them).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn mark(step: &'static str) {
    if tracing::enabled!(target: "startup", tracing::Level::DEBUG) {
        let epoch_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3);
        tracing::debug!(target: "startup", step, epoch_ms);
    }
}
