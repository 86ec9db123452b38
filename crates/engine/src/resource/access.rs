//! What a resource server's refusals mean for a connection made by URL: a refused token
//! gets one refresh, a renewed token refused too needs a new sign-in, and a request for
//! more scopes makes the connection Needs more access.

use crate::api::Connection;
use crate::integration::union;
use crate::provider::check_scopes;
use crate::{Engine, EngineEvent, Error, Result, Secret};

impl Engine {
    /// The server refused the connection's access token (HTTP 401): one refresh, and
    /// its new token. Without a refresh token, or when the provider refuses the refresh,
    /// the connection needs the person to sign in again (an error).
    pub async fn token_refused(&self, key: &str) -> Result<(Connection, Secret)> {
        let connection = self.connection(key)?;
        let credential = self.usable_credential(&connection)?;
        let tokens = self.stored_tokens(&connection, &credential).await?;
        if tokens.refresh_token.is_none() {
            let reason = "its server refused the access token, and there is no refresh token to get another";
            return self.needs_reauthorization(&connection, &credential, reason);
        }
        let tokens = self.refresh(&connection, credential).await?;
        Ok((self.connection(&connection.id)?, tokens.access_token))
    }

    /// The server refused even the token a refresh just gave (a second 401): as the MCP
    /// authorization specification has it, only a new sign-in can help. The connection
    /// needs reauthorization; the error says so.
    pub fn renewed_token_refused(&self, key: &str) -> Error {
        let reason = "its server refused a renewed access token too";
        let recorded = self.connection(key).and_then(|connection| {
            let credential = self.usable_credential(&connection)?;
            self.needs_reauthorization::<()>(&connection, &credential, reason)
        });
        recorded.err().unwrap_or_else(|| Error::Internal("reauthorization was not recorded".into()))
    }

    /// The server asked for `scopes` beyond the grant (HTTP 403 `insufficient_scope`):
    /// the connection needs more access until the person grants them.
    pub fn needs_more_access(&self, key: &str, scopes: &[String]) -> Result<Connection> {
        let connection = self.connection(key)?;
        let Some(resource) = self.store.resource(&connection.provider_id)? else {
            return Err(Error::InvalidInput {
                field: None,
                message: format!("“{}” was not connected by URL.", connection.name),
            });
        };
        let needed = union(&resource.needed_scopes, &check_scopes(scopes)?);
        self.store.set_needed_scopes(&resource.provider_id, &needed)?;
        self.events.publish(EngineEvent::ConnectionsChanged);
        self.connection(&connection.id)
    }
}
