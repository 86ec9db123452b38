//! The token agent's socket: a Unix socket in a folder only the person can enter, that
//! serves each connecting process of the same user one request. Anything malformed,
//! oversized or slow gets an error and the connection closed; the agent keeps serving.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{UnixListener, UnixStream};

use super::peer::program_of;
use super::protocol::{encode, parse_request, read_frame, write_frame, Answer, Ask, FrameError};
use crate::api::Program;
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
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Engine {
    /// Serves the token agent at `path` (see `agent::socket_path`) on the current Tokio
    /// runtime. A socket file left by an agent that is gone is replaced; one that an
    /// agent still answers on is an error.
    pub fn serve_agent(self: &Arc<Self>, path: &Path) -> Result<AgentServer> {
        let unusable =
            |reason: String| Error::AgentUnavailable { reason: format!("{}: {reason}", path.display()) };
        let listener = bind(path).map_err(|e| unusable(e.to_string()))?;
        let engine = self.clone();
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
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

fn bind(path: &Path) -> std::io::Result<UnixListener> {
    let folder = path.parent().ok_or_else(|| std::io::Error::other("the socket needs a folder"))?;
    std::fs::create_dir_all(folder)?;
    let owner = std::fs::metadata(folder)?.uid();
    if owner != rustix::process::geteuid().as_raw() {
        return Err(std::io::Error::other(format!("{} belongs to another user", folder.display())));
    }
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))?;
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another Grantkeeper serves there",
            ));
        }
        // Left by an app that was killed: nobody answers on it.
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// One client: who it is, its one request, the answer.
async fn serve(engine: Arc<Engine>, stream: UnixStream) {
    let program = match caller(&stream) {
        Ok(program) => program,
        Err(reason) => {
            tracing::warn!(%reason, "the token agent refused a caller");
            return;
        }
    };
    let (mut reader, mut writer) = stream.into_split();
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
        Err(error) => {
            tracing::warn!(%error, program = %program.path, "the token agent got a bad request");
            Answer::Refused { error: Error::invalid("request", error.to_string()).payload() }
        }
    };
    if let Err(error) = write_frame(&mut writer, &encode(&answer)).await {
        tracing::debug!(%error, "the caller left before its answer");
    }
}

/// The calling program, when the caller is one of the person's own processes.
fn caller(stream: &UnixStream) -> std::result::Result<Program, String> {
    let credentials = stream.peer_cred().map_err(|e| format!("no peer credentials: {e}"))?;
    let own = rustix::process::geteuid().as_raw();
    if credentials.uid() != own {
        return Err(format!("uid {} is not the person's ({own})", credentials.uid()));
    }
    let pid = credentials.pid().and_then(|pid| u32::try_from(pid).ok()).ok_or("no peer pid")?;
    program_of(pid).map_err(|e| format!("the caller's program cannot be told: {e}"))
}

/// Resolves when the caller closes its end (or sends anything more, which the
/// protocol does not allow).
async fn caller_gone(reader: &mut tokio::net::unix::OwnedReadHalf) {
    let mut byte = [0u8; 1];
    let _ = reader.read(&mut byte).await;
}
