//! A command that waits says so: a refresh lock held by another process (a refresh
//! under way in the app, or a stuck one) can hold `remove` and `refresh` for up to two
//! minutes, which would otherwise look like a hang.

use std::future::Future;
use std::time::Duration;

/// How long a command runs before it says what it waits for.
const SAY_AFTER: Duration = Duration::from_secs(2);

/// Runs `work`; once it has taken longer than a moment, prints `note` on stderr.
pub async fn saying_when_slow<T>(work: impl Future<Output = T>, note: impl FnOnce() -> String) -> T {
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => return done,
        () = tokio::time::sleep(SAY_AFTER) => eprintln!("{}", note()),
    }
    work.await
}
