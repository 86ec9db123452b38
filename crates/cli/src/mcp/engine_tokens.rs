//! The bridge's tokens from the engine: the connection's access token (kept in memory
//! for a short while, so a burst of tool calls does not read the keychain each time),
//! one refresh when the server refuses it, and Needs more access when it asks for scopes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use grantkeeper_engine::{Connection, Engine, Error, Secret, Timestamp};

use super::tokens::Tokens;

/// Tokens handed out are valid for at least this long (`grantkeeper token`'s default).
const MIN_TTL: Duration = Duration::from_secs(60);
/// The longest a token is reused without asking the engine again: a reconnect or a
/// refresh by the app reaches the bridge within this.
const REUSE_FOR: Duration = Duration::from_secs(30);

pub struct EngineTokens {
    engine: Arc<Engine>,
    connection_id: String,
    kept: Mutex<Option<(Secret, Instant)>>,
}

impl EngineTokens {
    pub fn new(engine: Arc<Engine>, connection_id: String) -> Self {
        EngineTokens { engine, connection_id, kept: Mutex::new(None) }
    }

    /// Keeps `token` while it stays valid for MIN_TTL, REUSE_FOR at most.
    fn keep(&self, connection: &Connection, token: &Secret) -> Secret {
        let left = match connection.expires_at.as_deref().and_then(Timestamp::parse) {
            Some(expires) => {
                let seconds = (expires - Timestamp::now()).whole_seconds() - MIN_TTL.as_secs() as i64;
                Duration::from_secs(seconds.max(0) as u64)
            }
            None => REUSE_FOR,
        };
        *self.kept.lock().expect("token lock") = Some((token.clone(), Instant::now() + left.min(REUSE_FOR)));
        token.clone()
    }

    fn kept(&self) -> Option<Secret> {
        let kept = self.kept.lock().expect("token lock");
        kept.as_ref().filter(|(_, until)| Instant::now() < *until).map(|(token, _)| token.clone())
    }
}

impl Tokens for EngineTokens {
    async fn token(&self) -> Result<Secret, Error> {
        if let Some(token) = self.kept() {
            return Ok(token);
        }
        let (connection, token) = self.engine.access_token(&self.connection_id, MIN_TTL).await?;
        Ok(self.keep(&connection, &token))
    }

    async fn refused(&self) -> Result<Secret, Error> {
        // The token kept here may be older than the keychain's (the app refreshed it
        // meanwhile): that one is tried before refreshing.
        let kept = self.kept.lock().expect("token lock").take();
        if let Some((sent, _)) = kept {
            let (connection, current) = self.engine.access_token(&self.connection_id, MIN_TTL).await?;
            if current != sent {
                return Ok(self.keep(&connection, &current));
            }
        }
        let (connection, token) = self.engine.token_refused(&self.connection_id).await?;
        Ok(self.keep(&connection, &token))
    }

    async fn renewed_token_refused(&self) -> Error {
        self.kept.lock().expect("token lock").take();
        self.engine.renewed_token_refused(&self.connection_id)
    }

    async fn needs_more_access(&self, scopes: &[String]) -> Result<(), Error> {
        self.engine.needs_more_access(&self.connection_id, scopes).map(drop)
    }
}
