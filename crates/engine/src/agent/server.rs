//! The token agent serving: each connecting process of the person gets one request
//! answered (the transport, a Unix socket or a Windows named pipe, tells who it is).
//! Anything malformed, oversized or slow gets an error and the connection closed; the
//! agent keeps serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::protocol::{encode, parse_request, read_frame, write_frame, Answer, Ask, FrameError};
use super::transport::{self, Accepted, Listener};
use crate::{Engine, Error, Result};

/// How long a client has to send its request once connected.
const REQUEST_WAIT: Duration = Duration::from_secs(5);

/// The agent while it serves; dropping it stops serving and removes the socket.
pub struct AgentServer {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl AgentServer {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for AgentServer {
    fn drop(&mut self) {
        self.task.abort();
        transport::unbind(&self.path);
    }
}

impl Engine {
    /// Serves the token agent at `path` (see `agent::address`) on the current Tokio
    /// runtime. A socket file left by an agent that is gone is replaced; one that an
    /// agent still answers on is an error, as is a pipe another program holds.
    pub fn serve_agent(self: &Arc<Self>, path: &Path) -> Result<AgentServer> {
        let unusable = |reason: String| Error::AgentFailed {
            reason: format!("it cannot serve at {}: {reason}", path.display()),
        };
        let mut listener = Listener::bind(path).map_err(|e| unusable(e.to_string()))?;
        let engine = self.clone();
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok(stream) => {
                        tokio::spawn(serve(engine.clone(), stream));
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the token agent could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        tracing::info!(socket = %path.display(), "the token agent is serving");
        Ok(AgentServer { path: path.to_owned(), task })
    }
}

/// One client: who it is, its one request, the answer.
async fn serve(engine: Arc<Engine>, stream: Accepted) {
    let program = match transport::caller(&stream) {
        Ok(program) => program,
        Err(reason) => {
            tracing::warn!(%reason, "the token agent refused a caller");
            return;
        }
    };
    let (mut reader, mut writer) = tokio::io::split(stream);
    let request = match tokio::time::timeout(REQUEST_WAIT, read_frame(&mut reader)).await {
        Ok(Ok(frame)) => parse_request(&frame),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(FrameError::Malformed(format!("no request within {} seconds", REQUEST_WAIT.as_secs()))),
    };
    let answer = match request {
        Ok(request) => {
            let handed = async {
                match request.ask {
                    Ask::Token { connection, min_ttl_secs, require_scopes } => {
                        let min_ttl = Duration::from_secs(min_ttl_secs);
                        engine.hand_out(&program, &connection, min_ttl, &require_scopes).await
                    }
                    Ask::Refused { connection, fingerprint } => {
                        engine.hand_out_after_refusal(&program, &connection, &fingerprint).await
                    }
                }
            };
            tokio::select! {
                handed = handed => match handed {
                    Ok((connection, token)) => Answer::token(connection, &token),
                    Err(error) => Answer::Refused { error: error.payload() },
                },
                // It exited or gave up: no answer, and no prompt left waiting for it.
                () = caller_gone(&mut reader) => return,
            }
        }
        // The CLI's check that the agent serves connects and leaves: not worth a warning.
        Err(FrameError::Io(error)) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            return tracing::debug!(program = %program.path, "a caller left without a request");
        }
        Err(error) => {
            tracing::warn!(%error, program = %program.path, "the token agent got a bad request");
            Answer::Refused { error: Error::invalid("request", error.to_string()).payload() }
        }
    };
    if let Err(error) = write_frame(&mut writer, &encode(&answer)).await {
        tracing::debug!(%error, "the caller left before its answer");
    }
}

/// Resolves when the caller closes its end (or sends anything more, which the
/// protocol does not allow).
async fn caller_gone(reader: &mut (impl AsyncRead + Unpin)) {
    let mut byte = [0u8; 1];
    let _ = reader.read(&mut byte).await;
}
