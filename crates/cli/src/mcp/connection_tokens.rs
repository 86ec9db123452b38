//! The bridge's tokens for its connection: from the running app's token agent (which
//! asks the person before the AI client that started the bridge gets to use the
//! connection) or the keychain, as `token` gets them. A token is kept in memory for a
//! short while, so a burst of tool calls does not ask each time; a refused one is
//! renewed once; the server asking for scopes makes the connection Needs more access.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use grantkeeper_engine::{Connection, Engine, Error, Secret, Timestamp};

use super::tokens::Tokens;
use crate::agent::{token_after_refusal, token_by, Route};

/// Tokens handed out are valid for at least this long (`grantkeeper token`'s default).
const MIN_TTL: Duration = Duration::from_secs(60);
/// The longest a token is reused without asking again: a reconnect or a refresh by the
/// app reaches the bridge within this.
const REUSE_FOR: Duration = Duration::from_secs(30);

pub struct ConnectionTokens {
    engine: Arc<Engine>,
    route: Route,
    connection_id: String,
    kept: Mutex<Option<(Secret, Instant)>>,
}

impl ConnectionTokens {
    pub fn new(engine: Arc<Engine>, route: Route, connection_id: String) -> Self {
        ConnectionTokens { engine, route, connection_id, kept: Mutex::new(None) }
    }

    /// Keeps `token` while it stays valid for MIN_TTL, REUSE_FOR at most.
    fn keep(&self, connection: &Connection, token: &Secret) -> Secret {
        let left = match connection.expires_at {
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

impl Tokens for ConnectionTokens {
    async fn token(&self) -> Result<Secret, Error> {
        if let Some(token) = self.kept() {
            return Ok(token);
        }
        let (connection, token) =
            token_by(&self.engine, &self.route, &self.connection_id, MIN_TTL, &[]).await?;
        Ok(self.keep(&connection, &token))
    }

    async fn refused(&self, sent: &Secret) -> Result<Secret, Error> {
        self.kept.lock().expect("token lock").take();
        let (connection, token) =
            token_after_refusal(&self.engine, &self.route, &self.connection_id, sent).await?;
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
