//! What the bridge asks of Grantkeeper: the connection's token, one refresh when the
//! server refuses it, and recording that the server wants more scopes. The engine's
//! implementation is `connection_tokens.rs`; tests can pass their own.

use std::future::Future;

use grantkeeper_engine::{Error, ErrorCode, Secret};

pub trait Tokens: Send + Sync + 'static {
    /// The connection's current access token (refreshed first when about to expire).
    fn token(&self) -> impl Future<Output = Result<Secret, Error>> + Send;
    /// The server refused `sent` (HTTP 401): a newer token, or refresh once; Err when
    /// the connection now needs the person to sign in again.
    fn refused(&self, sent: &Secret) -> impl Future<Output = Result<Secret, Error>> + Send;
    /// The server refused the renewed token too: record that the person must sign in
    /// again; the error to end the bridge with.
    fn renewed_token_refused(&self) -> impl Future<Output = Error> + Send;
    /// The server answered 403 `insufficient_scope` naming these scopes.
    fn needs_more_access(&self, scopes: &[String]) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Whether an error from [`Tokens`] ends the bridge: the connection needs the person
/// (sign in again), is gone, or the person denied the AI client its use. Anything else
/// (a locked keychain, a provider that cannot be reached for the refresh, a question
/// nobody answered in time) fails only the request at hand.
pub fn ends_the_bridge(error: &Error) -> bool {
    matches!(
        error.code(),
        ErrorCode::NeedsReauthorization
            | ErrorCode::TokenExpired
            | ErrorCode::NotFound
            | ErrorCode::ConsentDenied
    )
}

/// The tokens of one bridge: concurrent requests refused with the same token share one
/// refresh, and scopes the server asked for are recorded once.
pub struct Credentials<T> {
    tokens: T,
    /// The last refresh: the token refused, and the one it gave in its place.
    refreshed: tokio::sync::Mutex<Option<(Secret, Secret)>>,
    /// Scopes already recorded as needed.
    asked: std::sync::Mutex<Vec<String>>,
}

impl<T: Tokens> Credentials<T> {
    pub fn new(tokens: T) -> Self {
        Credentials {
            tokens,
            refreshed: tokio::sync::Mutex::new(None),
            asked: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub async fn token(&self) -> Result<Secret, Error> {
        self.tokens.token().await
    }

    /// The server refused `sent`: the token another request's refresh gave in its place,
    /// else the one a refresh gives. Only a refresh for `sent` itself counts: a token
    /// refreshed for an earlier refusal may be older than `sent`, and long expired.
    pub async fn refused(&self, sent: &Secret) -> Result<Secret, Error> {
        let mut refreshed = self.refreshed.lock().await;
        if let Some((_, newer)) = refreshed.as_ref().filter(|(replaced, _)| replaced == sent) {
            return Ok(newer.clone());
        }
        let token = self.tokens.refused(sent).await?;
        *refreshed = Some((sent.clone(), token.clone()));
        Ok(token)
    }

    pub async fn renewed_token_refused(&self) -> Error {
        self.tokens.renewed_token_refused().await
    }

    pub async fn needs_more_access(&self, scopes: &[String]) -> Result<(), Error> {
        if scopes.iter().all(|scope| self.asked.lock().expect("scopes lock").contains(scope)) {
            return Ok(());
        }
        self.tokens.needs_more_access(scopes).await?;
        self.asked.lock().expect("scopes lock").extend(scopes.iter().cloned());
        Ok(())
    }
}

#[cfg(test)]
pub mod testing {
    //! A [`Tokens`] that counts what the bridge asked.

    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct CountingTokens {
        pub refreshes: AtomicUsize,
        pub scopes_asked: Mutex<Vec<Vec<String>>>,
        /// Whether a refresh fails as the provider refusing it.
        pub refresh_fails: bool,
    }

    impl Tokens for CountingTokens {
        async fn token(&self) -> Result<Secret, Error> {
            Ok(Secret::new(format!("token-{}", self.refreshes.load(Ordering::SeqCst))))
        }

        async fn refused(&self, _sent: &Secret) -> Result<Secret, Error> {
            if self.refresh_fails {
                return Err(Error::NeedsReauthorization {
                    connection: "Test".into(),
                    reason: "refused".into(),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Secret::new(format!("token-{n}")))
        }

        async fn renewed_token_refused(&self) -> Error {
            Error::NeedsReauthorization { connection: "Test".into(), reason: "refused again".into() }
        }

        async fn needs_more_access(&self, scopes: &[String]) -> Result<(), Error> {
            self.scopes_asked.lock().unwrap().push(scopes.to_vec());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::CountingTokens;
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    #[tokio::test]
    async fn requests_refused_with_the_same_token_share_one_refresh() {
        let credentials = Arc::new(Credentials::new(CountingTokens::default()));
        let sent = credentials.token().await.unwrap();
        let refused = (0..5).map(|_| {
            let credentials = credentials.clone();
            let sent = sent.clone();
            tokio::spawn(async move { credentials.refused(&sent).await.unwrap() })
        });
        for task in refused {
            assert_eq!(task.await.unwrap().expose(), "token-1");
        }
        assert_eq!(credentials.tokens.refreshes.load(Ordering::SeqCst), 1);
        // The refreshed token refused in turn gets a refresh of its own.
        let again = credentials.refused(&Secret::new("token-1")).await.unwrap();
        assert_eq!(again.expose(), "token-2");
        // Hours later, a newer token (refreshed elsewhere meanwhile) refused: not the
        // older one an earlier refresh gave, but a refresh of its own.
        let later = credentials.refused(&Secret::new("token-from-elsewhere")).await.unwrap();
        assert_eq!(later.expose(), "token-3");
    }

    #[tokio::test]
    async fn scopes_asked_for_again_are_recorded_once() {
        let credentials = Credentials::new(CountingTokens::default());
        let scopes = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        credentials.needs_more_access(&scopes(&["a", "b"])).await.unwrap();
        credentials.needs_more_access(&scopes(&["b", "a"])).await.unwrap();
        credentials.needs_more_access(&scopes(&["b", "c"])).await.unwrap();
        let asked = credentials.tokens.scopes_asked.lock().unwrap().clone();
        assert_eq!(asked, [scopes(&["a", "b"]), scopes(&["b", "c"])]);
    }

    #[test]
    fn only_the_connections_own_trouble_ends_the_bridge() {
        let reauth = Error::NeedsReauthorization { connection: "c".into(), reason: "r".into() };
        assert!(ends_the_bridge(&reauth));
        assert!(ends_the_bridge(&Error::NotFound { what: "connection", key: "c".into() }));
        let denied = Error::ConsentDenied { connection: "c".into(), program: "claude".into() };
        assert!(ends_the_bridge(&Error::FromAgent(denied.payload())));
        let unanswered =
            Error::ConsentTimedOut { connection: "c".into(), program: "claude".into(), seconds: 60 };
        assert!(!ends_the_bridge(&unanswered));
        assert!(!ends_the_bridge(&Error::KeychainUnavailable("locked".into())));
        let unreachable = Error::ProviderUnreachable {
            host: "h".into(),
            reason: "r".into(),
            answered: None,
            retry_after: None,
        };
        assert!(!ends_the_bridge(&unreachable));
    }
}
