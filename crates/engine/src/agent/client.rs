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
    // Reached, so not a case for the direct path: the app may have been asking the person.
    let failed = |reason: String| Error::AgentFailed { reason };
    let request = Request { version: VERSION, ask };
    write_frame(&mut stream, &encode(&request)).await.map_err(|e| {
        failed(format!("the request could not be sent to the app ({e}). Run the command again"))
    })?;
    let frame = tokio::time::timeout(ANSWER_WAIT, read_frame(&mut stream))
        .await
        .map_err(|_| failed(format!("the app did not answer within {} minutes", ANSWER_WAIT.as_secs() / 60)))?
        .map_err(|e| {
            failed(format!(
                "the app stopped before it answered ({e}). Run the command again once Grantkeeper runs"
            ))
        })?;
    match serde_json::from_slice(&frame).map_err(|e| {
        failed(format!(
            "the app's answer is not understood ({e}); the app may be another version than this command. Restart Grantkeeper"
        ))
    })? {
        Answer::Token { connection, access_token } => Ok(Some((*connection, Secret::new(access_token)))),
        Answer::Refused { error } => Err(Error::FromAgent(error)),
    }
}
