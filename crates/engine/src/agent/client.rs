//! The CLI's side of the token agent: one request to the running app.

use std::path::Path;
use std::time::Duration;

use super::protocol::{encode, fingerprint, read_frame, write_frame, Answer, Ask, Request, VERSION};
use crate::api::Connection;
use crate::{Error, Result, Secret};

/// Longer than any consent wait the app allows, so the app's own limit speaks first.
const ANSWER_WAIT: Duration = Duration::from_secs(10 * 60);

/// Whether an agent answers at `path`; an error when what answers there is not the
/// person's (Windows, where anyone may create a pipe of any name first).
pub async fn is_serving(path: &Path) -> Result<bool> {
    Ok(super::transport::connect(path).await?.is_some())
}

/// A connection's token from the app serving at `path`; None when no app serves there.
pub async fn request_token(
    path: &Path,
    connection: &str,
    min_ttl: Duration,
    require_scopes: &[String],
) -> Result<Option<(Connection, Secret)>> {
    let ask = Ask::Token {
        connection: connection.to_owned(),
        min_ttl_secs: min_ttl.as_secs(),
        require_scopes: require_scopes.to_vec(),
    };
    request(path, ask).await
}

/// The server refused `refused`, a token of `connection` the app handed out: a newer
/// token, or the one a refresh gives. None when no app serves at `path`.
pub async fn report_refused(
    path: &Path,
    connection: &str,
    refused: &Secret,
) -> Result<Option<(Connection, Secret)>> {
    let ask = Ask::Refused { connection: connection.to_owned(), fingerprint: fingerprint(refused) };
    request(path, ask).await
}

async fn request(path: &Path, ask: Ask) -> Result<Option<(Connection, Secret)>> {
    let Some(mut stream) = super::transport::connect(path).await? else { return Ok(None) };
    let unusable = |reason: String| Error::AgentUnavailable { reason };
    let request = Request { version: VERSION, ask };
    write_frame(&mut stream, &encode(&request)).await.map_err(|e| unusable(e.to_string()))?;
    let frame = tokio::time::timeout(ANSWER_WAIT, read_frame(&mut stream))
        .await
        .map_err(|_| unusable("the app did not answer".into()))?
        .map_err(|e| unusable(format!("the app's answer could not be read: {e}")))?;
    match serde_json::from_slice(&frame)
        .map_err(|e| unusable(format!("the app's answer is not understood: {e}")))?
    {
        Answer::Token { connection, access_token } => Ok(Some((*connection, Secret::new(access_token)))),
        Answer::Refused { error } => Err(Error::FromAgent(error)),
    }
}
