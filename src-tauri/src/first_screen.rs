//! Start-up work the first screen does not need (the keychain check, revocation retries,
//! the refresh scheduler, the system-bus watchers) waits until the window has drawn its
//! list, so that on a small machine it does not compete with the webview for the CPU
//! (BENCHMARKS.md, "Where the start-up time goes").

use std::time::Duration;

use tokio::sync::Notify;

/// A window that never says it has drawn (a webview that failed to load) holds that work
/// back no longer than this.
const LONGEST_WAIT: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct FirstScreen(Notify);

impl FirstScreen {
    /// The window has drawn its first screen (the `first_screen_shown` command).
    pub fn shown(&self) {
        // Keeps a permit when nothing waits yet, so the order of the two does not matter.
        self.0.notify_one();
    }

    /// Returns once the window has drawn its first screen, or after `LONGEST_WAIT`.
    pub async fn wait(&self) {
        let _ = tokio::time::timeout(LONGEST_WAIT, self.0.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_window_may_say_it_has_drawn_before_anything_waits() {
        let first_screen = FirstScreen::default();
        first_screen.shown();
        let waited = tokio::time::timeout(Duration::from_secs(1), first_screen.wait()).await;
        assert!(waited.is_ok(), "the wait did not see the earlier word from the window");
    }
}
