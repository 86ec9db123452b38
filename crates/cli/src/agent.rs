//! Where `token` and `exec` get a token: from the running app's token agent, which asks
//! the person before a program gets one; straight from the keychain where no app can ask
//! (no display: SSH, a server, CI) or when told so (`--no-agent`,
//! `GRANTKEEPER_NO_AGENT=1`). An app that is not running is started in the background.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use grantkeeper_engine::agent::{address, client, SERVES_HERE};
use grantkeeper_engine::{Connection, Engine, Error, Result, Secret};

/// How long a freshly started app has to open its agent.
const START_WAIT: Duration = Duration::from_secs(15);

/// Said once per data directory: the marker file's name.
const NOTE_MARKER: &str = "agent-note-shown";

/// Where a command gets its tokens.
pub enum Route {
    /// The running app's token agent, serving at this socket (or named pipe).
    Agent(PathBuf),
    /// The keychain, read by the command itself.
    Direct,
}

/// The route for this command's tokens: the agent (started if need be) where one can
/// ask the person, else the direct path.
pub async fn route(engine: &Engine, no_agent: bool) -> Result<Route> {
    match agent_address(engine, no_agent).await? {
        Some(path) => Ok(Route::Agent(path)),
        None => Ok(Route::Direct),
    }
}

/// A connection's token for the program that ran this command.
pub async fn token(
    engine: &Engine,
    connection: &str,
    min_ttl: Duration,
    require_scopes: &[String],
    no_agent: bool,
) -> Result<(Connection, Secret)> {
    let route = route(engine, no_agent).await?;
    token_by(engine, &route, connection, min_ttl, require_scopes).await
}

/// A connection's token by `route`.
pub async fn token_by(
    engine: &Engine,
    route: &Route,
    connection: &str,
    min_ttl: Duration,
    require_scopes: &[String],
) -> Result<(Connection, Secret)> {
    if let Route::Agent(path) = route {
        if let Some(handed) = client::request_token(path, connection, min_ttl, require_scopes).await? {
            return Ok(handed);
        }
        // It stopped between the check and the request: as if it never ran.
        direct(engine, Some("the app stopped"))?;
    }
    engine.require_scopes(connection, require_scopes)?;
    engine.access_token(connection, min_ttl).await
}

/// The server refused `sent`, a token of `connection`: a newer one when the connection
/// has one (refreshed meanwhile), else one refresh and its token.
pub async fn token_after_refusal(
    engine: &Engine,
    route: &Route,
    connection: &str,
    sent: &Secret,
) -> Result<(Connection, Secret)> {
    if let Route::Agent(path) = route {
        if let Some(handed) = client::report_refused(path, connection, sent).await? {
            return Ok(handed);
        }
        direct(engine, Some("the app stopped"))?;
    }
    let (found, current) = engine.access_token(connection, Duration::ZERO).await?;
    if current != *sent {
        return Ok((found, current));
    }
    engine.token_refused(connection).await
}

/// A connection's token from an app already serving for the data directory `home`,
/// before the engine is opened: the usual case, kept fast (no database, no keychain).
/// None when no app serves there or the direct path was chosen.
pub async fn from_running_app(
    home: &Path,
    connection: &str,
    min_ttl: Duration,
    require_scopes: &[String],
    no_agent: bool,
) -> Result<Option<(Connection, Secret)>> {
    if !SERVES_HERE || told_direct(no_agent) {
        return Ok(None);
    }
    client::request_token(&address(home), connection, min_ttl, require_scopes).await
}

/// Whether the direct path was chosen: `--no-agent` or GRANTKEEPER_NO_AGENT=1.
fn told_direct(no_agent: bool) -> bool {
    no_agent || std::env::var("GRANTKEEPER_NO_AGENT").is_ok_and(|v| v == "1")
}

/// Where the agent serves, started if need be; None for the direct path.
async fn agent_address(engine: &Engine, no_agent: bool) -> Result<Option<PathBuf>> {
    if !SERVES_HERE {
        return Ok(None);
    }
    if told_direct(no_agent) {
        return direct(engine, None).map(|()| None);
    }
    let path = address(engine.home());
    if client::is_serving(&path).await? {
        return Ok(Some(path));
    }
    if !has_display() {
        return direct(engine, Some("there is no display here to ask you on")).map(|()| None);
    }
    match start_app() {
        Ok(()) if serving_within(&path, START_WAIT).await => Ok(Some(path)),
        Ok(()) => direct(engine, Some("the app did not start in time")).map(|()| None),
        Err(reason) => direct(engine, Some(&reason)).map(|()| None),
    }
}

/// The direct path, unless the person requires the app. Where it was not chosen on
/// purpose, says once `why` no consent is asked.
fn direct(engine: &Engine, why: Option<&str>) -> Result<()> {
    if engine.require_app()? {
        let reason = why.unwrap_or("the token was asked for with --no-agent or GRANTKEEPER_NO_AGENT");
        return Err(Error::AgentUnavailable { reason: reason.to_owned() });
    }
    let Some(reason) = why else { return Ok(()) };
    let marker = engine.home().join(NOTE_MARKER);
    if !marker.exists() {
        eprintln!(
            "grantkeeper: programs get tokens here without being asked, since Grantkeeper's app cannot ask you ({reason}). \
             Shown once; `--no-agent` or GRANTKEEPER_NO_AGENT=1 choose this on purpose."
        );
        let _ = std::fs::write(&marker, b"");
    }
    Ok(())
}

/// Whether the person sits at this session: a graphical one on Linux; on Windows any
/// but a remote shell (OpenSSH sets SSH_CONNECTION).
fn has_display() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if cfg!(windows) {
        !set("SSH_CONNECTION")
    } else {
        set("DISPLAY") || set("WAYLAND_DISPLAY")
    }
}

/// Starts the app in the background (tray only), detached from this command.
fn start_app() -> std::result::Result<(), String> {
    let app_name = format!("{APP}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(&app_name)));
    let app = beside.filter(|path| path.exists()).unwrap_or_else(|| PathBuf::from(&app_name));
    let mut command = std::process::Command::new(&app);
    command.arg("--background").stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null());
    command.stderr(std::process::Stdio::null());
    detach(&mut command);
    command.spawn().map(drop).map_err(|e| format!("the app ({}) could not be started: {e}", app.display()))
}

/// In a process group of its own, so that the terminal's Ctrl+C or closing it does
/// not end the app with the command.
#[cfg(unix)]
fn detach(command: &mut std::process::Command) {
    std::os::unix::process::CommandExt::process_group(command, 0);
}

#[cfg(windows)]
fn detach(command: &mut std::process::Command) {
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    std::os::windows::process::CommandExt::creation_flags(
        command,
        DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP,
    );
}

const APP: &str = "grantkeeper-app";

async fn serving_within(path: &Path, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if client::is_serving(path).await.unwrap_or(false) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
