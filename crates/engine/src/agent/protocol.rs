//! The token agent's wire protocol, used by the app (server) and the CLI (client): one
//! request and one answer per connection, each a frame of a 4-byte big-endian length
//! and that many bytes of JSON. A request names the protocol's version, so a CLI and an
//! app of different releases refuse each other plainly instead of misreading.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zeroize::Zeroizing;

use crate::api::Connection;
use crate::{ErrorPayload, Secret};

pub const VERSION: u16 = 1;

/// No request comes near this; an answer holds one token and a connection.
pub const MAX_FRAME: usize = 64 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub version: u16,
    pub ask: Ask,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Ask {
    /// A connection's access token, valid for at least `min_ttl_secs` more seconds,
    /// from a connection that has `require_scopes`.
    Token {
        connection: String,
        min_ttl_secs: u64,
        #[serde(default)]
        require_scopes: Vec<String>,
    },
    /// The server refused the token whose [`fingerprint`] this is (HTTP 401): the
    /// connection's newer token when there is one, else the one a refresh gives.
    Refused { connection: String, fingerprint: String },
}

impl Ask {
    pub fn connection(&self) -> &str {
        match self {
            Ask::Token { connection, .. } | Ask::Refused { connection, .. } => connection,
        }
    }
}

/// Names a token without giving it away: its SHA-256, base64url.
pub fn fingerprint(token: &Secret) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.expose().as_bytes()))
}

/// The agent's answer. Holds the token as text only on the wire: [`Answer::token`]
/// hands it over as a [`Secret`]; no `Debug`, so it never reaches a log.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Token { connection: Box<Connection>, access_token: String },
    Refused { error: ErrorPayload },
}

impl Answer {
    pub fn token(connection: Connection, token: &Secret) -> Self {
        Answer::Token { connection: Box::new(connection), access_token: token.expose().to_owned() }
    }
}

/// What went wrong with a frame; the connection is closed after it.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the message is {0} bytes, more than the {MAX_FRAME} allowed")]
    TooLarge(usize),
    #[error("the message could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the message is not a request this version understands: {0}")]
    Malformed(String),
    #[error("the request is for protocol version {0}, and this Grantkeeper speaks version {VERSION}")]
    Version(u16),
}

pub async fn read_frame(reader: &mut (impl AsyncRead + Unpin)) -> Result<Zeroizing<Vec<u8>>, FrameError> {
    let length = reader.read_u32().await? as usize;
    if length > MAX_FRAME {
        return Err(FrameError::TooLarge(length));
    }
    let mut frame = Zeroizing::new(vec![0; length]);
    reader.read_exact(&mut frame).await?;
    Ok(frame)
}

pub async fn write_frame(writer: &mut (impl AsyncWrite + Unpin), body: &[u8]) -> Result<(), FrameError> {
    if body.len() > MAX_FRAME {
        return Err(FrameError::TooLarge(body.len()));
    }
    let length = u32::try_from(body.len()).expect("under MAX_FRAME");
    writer.write_all(&length.to_be_bytes()).await?;
    writer.write_all(body).await?;
    writer.flush().await?;
    Ok(())
}

/// A request's frame, checked: JSON of this shape and this protocol version.
pub fn parse_request(frame: &[u8]) -> Result<Request, FrameError> {
    let request: Request = serde_json::from_slice(frame).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if request.version != VERSION {
        return Err(FrameError::Version(request.version));
    }
    let connection = request.ask.connection();
    if connection.trim().is_empty() || connection.len() > 512 {
        return Err(FrameError::Malformed("the connection must be named".into()));
    }
    if let Ask::Refused { fingerprint, .. } = &request.ask {
        if fingerprint.len() != 43 {
            return Err(FrameError::Malformed("the refused token's fingerprint must be its SHA-256".into()));
        }
    }
    Ok(request)
}

pub fn encode<T: Serialize>(message: &T) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(serde_json::to_vec(message).expect("agent messages serialize"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked() {
        let good = br#"{"version":1,"ask":{"token":{"connection":"GitHub","min_ttl_secs":60}}}"#;
        assert!(matches!(parse_request(good).unwrap().ask, Ask::Token { min_ttl_secs: 60, .. }));
        let newer = br#"{"version":2,"ask":{"token":{"connection":"GitHub","min_ttl_secs":60}}}"#;
        assert!(matches!(parse_request(newer), Err(FrameError::Version(2))));
        let print = fingerprint(&Secret::new("canary-token"));
        let refused = format!(
            r#"{{"version":1,"ask":{{"refused":{{"connection":"GitHub","fingerprint":"{print}"}}}}}}"#
        );
        assert!(matches!(parse_request(refused.as_bytes()).unwrap().ask, Ask::Refused { .. }));
        for bad in [
            &br#"{"version":1,"ask":{"token":{"connection":"","min_ttl_secs":60}}}"#[..],
            br#"{"version":1,"ask":{"token":{"connection":"x","min_ttl_secs":-1}}}"#,
            br#"{"version":1,"ask":{"token":{"connection":"x","min_ttl_secs":1,"extra":1}}}"#,
            br#"{"version":1,"ask":{"delete":{}}}"#,
            br#"{"version":1,"ask":{"refused":{"connection":"x","fingerprint":"canary-token"}}}"#,
            br#"{"version":1,"ask":{"refused":{"connection":"x"}}}"#,
            b"\xff\xfe",
            b"",
        ] {
            assert!(matches!(parse_request(bad), Err(FrameError::Malformed(_))), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn frames_round_trip_and_oversized_ones_are_refused() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        write_frame(&mut a, b"hello").await.unwrap();
        assert_eq!(&read_frame(&mut b).await.unwrap()[..], b"hello");
        a.write_all(&(MAX_FRAME as u32 + 1).to_be_bytes()).await.unwrap();
        assert!(matches!(read_frame(&mut b).await, Err(FrameError::TooLarge(_))));
        drop(a);
        assert!(matches!(read_frame(&mut b).await, Err(FrameError::Io(_))));
    }
}
