//! The refresh scheduler of the running app: sleeps until the next credential is due,
//! refreshes it through the same single-flight path as `token`, and backs off with
//! jitter when the provider cannot be reached. Only the provider's own refusal moves a
//! connection to Reauthorize (inside `refresh`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use crate::api::{Connection, ConnectionStatus};
use crate::Timestamp;
use crate::{Engine, EngineEvent, Error};

/// Refresh this long before expiry at most...
const MARGIN: Duration = Duration::from_secs(5 * 60);
/// ...and wake at least this often, so a suspended machine catches up after resume
/// (the monotonic clock tokio sleeps on stands still during suspend).
const LONGEST_SLEEP: Duration = Duration::from_secs(5 * 60);
const FIRST_RETRY: Duration = Duration::from_secs(10);
/// How often a credential without an expiry (GitHub OAuth App tokens, API keys) is
/// checked with its provider, so a revoked one shows Reauthorize without waiting
/// for its next use.
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_secs(6 * 3600);
const LONGEST_RETRY: Duration = Duration::from_secs(15 * 60);

/// When a token that lives `lifetime` from `issued` should be refreshed: a margin
/// before expiry (5 minutes, or a quarter of short lifetimes), less some jitter so
/// many credentials do not all go at once.
pub(crate) fn refresh_due(issued: Timestamp, lifetime: Duration) -> Timestamp {
    let margin = MARGIN.min(lifetime / 4);
    let jitter = (lifetime / 20).min(Duration::from_secs(30)).mul_f64(fastrand::f64());
    issued + (lifetime - margin - jitter)
}

/// Backoff after `failures` transient failures in a row: doubling from 10 s up to
/// 15 minutes, with full jitter on the upper half.
fn retry_delay(failures: u32) -> Duration {
    let ceiling = FIRST_RETRY.saturating_mul(1 << failures.min(10)).min(LONGEST_RETRY);
    ceiling / 2 + (ceiling / 2).mul_f64(fastrand::f64())
}

/// When to try again after a transient failure: the backoff, or later when the
/// provider said so (`Retry-After`, capped where it was read).
pub(crate) fn next_attempt(failures: u32, error: &Error) -> Duration {
    match error {
        Error::ProviderUnreachable { retry_after: Some(wait), .. } => retry_delay(failures).max(*wait),
        _ => retry_delay(failures),
    }
}

impl Engine {
    /// Runs until the engine's event bus closes; spawn it once in the app.
    pub async fn run_scheduler(self: Arc<Self>) {
        let mut changes = self.subscribe();
        let mut failures: HashMap<String, u32> = HashMap::new();
        let mut stalled = Stall::default();
        loop {
            let next = match self.store.next_refresh_due() {
                Ok(next) => next,
                Err(error) => {
                    tracing::warn!(%error, "scheduler cannot read the database");
                    None
                }
            };
            let revocation_due = self.store.next_revocation_due().ok().flatten();
            let earliest = [next.as_ref().map(|(_, due)| *due), revocation_due].into_iter().flatten().min();
            let sleep = match earliest {
                Some(due) if due <= Timestamp::now() => stalled.wait(&(next.clone(), revocation_due)),
                Some(due) => (due - Timestamp::now()).try_into().unwrap_or(LONGEST_SLEEP).min(LONGEST_SLEEP),
                None => LONGEST_SLEEP,
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                // Woke from suspend or back online: look at the deadlines again now.
                _ = self.wake.notified() => continue,
                // New or changed credentials may be due sooner; look again.
                event = changes.recv() => match event {
                    Ok(EngineEvent::ConnectionsChanged) | Err(RecvError::Lagged(_)) => continue,
                    Ok(_) => continue,
                    Err(RecvError::Closed) => return,
                },
            }
            let seen = (next.clone(), revocation_due);
            let mut handled = false;
            if revocation_due.is_some_and(|due| due <= Timestamp::now()) {
                handled = true;
                if let Err(error) = self.retry_due_revocations().await {
                    tracing::warn!(%error, "could not retry revocations");
                }
            }
            if let Some((credential_id, due)) = next.filter(|(_, due)| *due <= Timestamp::now()) {
                handled = true;
                tracing::debug!(%credential_id, %due, "scheduled refresh");
                self.scheduled_refresh(&credential_id, &mut failures).await;
            }
            // Only what was due counts: a sleep that ended early handled nothing.
            if handled {
                stalled.handled(seen);
            }
        }
    }

    async fn scheduled_refresh(&self, credential_id: &str, failures: &mut HashMap<String, u32>) {
        let seen = match self.store.a_connection_of(credential_id) {
            Ok(Some(connection)) => self.store.credential(credential_id).map(|seen| Some((connection, seen))),
            other => other.map(|_| None),
        };
        let result = match seen {
            Ok(None) => {
                let _ = self.store.clear_refresh_due(credential_id);
                return;
            }
            // Nothing expires: check that the provider still takes it instead.
            Ok(Some((connection, seen))) if seen.times.expires_at.is_none() => {
                return self.scheduled_check(&connection, &seen.id, failures).await;
            }
            Ok(Some((connection, seen))) => {
                // Refreshed elsewhere since it failed here (`token`): its backoff starts over.
                if seen.status != ConnectionStatus::Retrying {
                    failures.remove(credential_id);
                }
                self.refresh(&connection, seen).await.map(drop)
            }
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => {
                failures.remove(credential_id);
            }
            // Marked Reauthorize already, with the provider's reason.
            Err(Error::NeedsReauthorization { .. } | Error::KeyRefused { .. }) => {
                failures.remove(credential_id);
            }
            Err(error @ Error::TokenExpired { .. }) => {
                tracing::info!(%error, "nothing to refresh with");
                let _ = self.store.clear_refresh_due(credential_id);
            }
            Err(error) => {
                let count = failures.entry(credential_id.to_owned()).or_default();
                *count += 1;
                let retry_at = Timestamp::now() + next_attempt(*count, &error);
                tracing::info!(%error, retry_at = %retry_at, "refresh failed; will retry");
                self.refresh_failed(credential_id, &error, retry_at);
            }
        }
    }
}

impl Engine {
    /// Credentials waiting to retry go now: what they waited for may be back. Only
    /// Linux tells Grantkeeper of waking and of the network coming back so far.
    #[cfg(target_os = "linux")]
    pub(crate) fn retry_soon(&self) {
        if let Err(error) = self.store.retry_now(Timestamp::now()) {
            tracing::warn!(%error, "could not reschedule the retries");
        }
    }

    /// The scheduled check of a credential that does not expire. A refusal is handled
    /// by the check itself (refresh, or Reauthorize); a failure to ask is not the
    /// credential's fault, so it only moves the next check, backing off as refreshes do.
    async fn scheduled_check(
        &self,
        connection: &Connection,
        credential_id: &str,
        failures: &mut HashMap<String, u32>,
    ) {
        let next = match self.test_connection(&connection.id).await {
            Ok(_) => {
                failures.remove(credential_id);
                // The check's refresh brought tokens that expire: their refresh is set.
                match self.store.credential(credential_id) {
                    Ok(now) if now.times.expires_at.is_some() => return,
                    _ => Some(CHECK_INTERVAL),
                }
            }
            Err(Error::NeedsReauthorization { .. } | Error::KeyRefused { .. }) => None,
            Err(error) if may_pass(&error) => {
                let count = failures.entry(credential_id.to_owned()).or_default();
                *count += 1;
                tracing::info!(%error, "could not check a connection; will try again");
                Some(next_attempt(*count, &error))
            }
            Err(error) => {
                tracing::info!(%error, "this connection cannot be checked");
                None
            }
        };
        let due = next.map(|wait| Timestamp::now() + wait);
        if let Err(error) = self.store.set_refresh_due(credential_id, due) {
            tracing::warn!(%error, "could not schedule the next check");
        }
    }
}

/// A failure that may not happen next time: the provider, the keychain, the database or
/// another process's refresh lock. Anything else stops the checks until the next start.
fn may_pass(error: &Error) -> bool {
    matches!(
        error,
        Error::ProviderUnreachable { .. }
            | Error::ProviderError { .. }
            | Error::KeychainUnavailable(_)
            | Error::Storage { .. }
            | Error::RefreshLocked { .. }
    )
}

/// What was due, seen again once it was handled: its new time could not be written (a
/// full disk), and going at it again at once would only repeat the failure in a tight
/// loop. Each time in a row waits longer, as a retry does.
#[derive(Default)]
struct Stall {
    last_handled: Option<Due>,
    times: u32,
}

/// The next credential due (with its time) and the next revocation's time.
type Due = (Option<(String, Timestamp)>, Option<Timestamp>);

impl Stall {
    /// How long to wait before handling `due`, which is due now.
    fn wait(&mut self, due: &Due) -> Duration {
        match self.last_handled.as_ref() == Some(due) {
            true => retry_delay(self.times + 1),
            false => Duration::ZERO,
        }
    }

    fn handled(&mut self, due: Due) {
        self.times = if self.last_handled.as_ref() == Some(&due) { self.times + 1 } else { 0 };
        self.last_handled = Some(due);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_stays_due_once_handled_waits_longer_each_time() {
        let mut stall = Stall::default();
        let due: Due = (Some(("c".into(), Timestamp::now())), None);
        assert_eq!(stall.wait(&due), Duration::ZERO);
        stall.handled(due.clone());
        let first = stall.wait(&due);
        assert!(first >= FIRST_RETRY && first <= FIRST_RETRY * 2, "{first:?}");
        stall.handled(due.clone());
        assert!(stall.wait(&due) >= FIRST_RETRY * 2);
        let other: Due = (Some(("d".into(), Timestamp::now())), None);
        assert_eq!(stall.wait(&other), Duration::ZERO);
        stall.handled(other.clone());
        stall.handled(due.clone());
        assert!(stall.wait(&due) <= FIRST_RETRY * 2, "counted afresh");
    }

    #[test]
    fn due_a_margin_before_expiry() {
        let issued = Timestamp::from(time::OffsetDateTime::UNIX_EPOCH);
        let hour = refresh_due(issued, Duration::from_secs(3600)) - issued;
        assert!(hour <= time::Duration::seconds(3300) && hour >= time::Duration::seconds(3270), "{hour}");
        let short = refresh_due(issued, Duration::from_secs(60)) - issued;
        assert!(short <= time::Duration::seconds(45) && short >= time::Duration::seconds(42), "{short}");
    }

    #[test]
    fn a_provider_that_says_when_to_come_back_is_left_alone_until_then() {
        let busy = Error::ProviderUnreachable {
            host: "x".into(),
            reason: "it answered HTTP 429".into(),
            answered: Some(429),
            retry_after: Some(Duration::from_secs(600)),
        };
        assert_eq!(next_attempt(1, &busy), Duration::from_secs(600));
        let down = Error::ProviderUnreachable {
            host: "x".into(),
            reason: "refused".into(),
            answered: None,
            retry_after: None,
        };
        assert!(next_attempt(1, &down) <= Duration::from_secs(20));
    }

    #[test]
    fn retries_back_off_up_to_fifteen_minutes() {
        assert!(retry_delay(1) >= Duration::from_secs(10) && retry_delay(1) <= Duration::from_secs(20));
        assert!(retry_delay(30) <= LONGEST_RETRY && retry_delay(30) >= LONGEST_RETRY / 2);
    }
}
