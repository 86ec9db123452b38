//! Where `token` and `exec` get a token: from the running app's token agent, which asks
//! the person before a program gets one; straight from the keychain where no app can ask
//! (no display: SSH, a server, CI) or when told so (`--no-agent`,
//! `GRANTKEEPER_NO_AGENT=1`). An app that is not running is started in the background.

#[cfg(target_os = "linux")]
use std::path::{Path, PathBuf};
use std::time::Duration;
#[cfg(target_os = "linux")]
use std::time::Instant;

#[cfg(target_os = "linux")]
use grantkeeper_engine::agent::{client, socket_path};
#[cfg(target_os = "linux")]
use grantkeeper_engine::Error;
use grantkeeper_engine::{Connection, Engine, Result, Secret};

/// How long a freshly started app has to open its agent.
#[cfg(target_os = "linux")]
const START_WAIT: Duration = Duration::from_secs(15);

/// Said once per data directory: the marker file's name.
#[cfg(target_os = "linux")]
const NOTE_MARKER: &str = "agent-note-shown";

/// Where a command gets its tokens.
pub enum Route {
    /// The running app's token agent, serving at this socket.
    #[cfg(target_os = "linux")]
    Agent(PathBuf),
    /// The keychain, read by the command itself.
    Direct,
}

/// The route for this command's tokens: the agent (started if need be) where one can
/// ask the person, else the direct path.
pub async fn route(engine: &Engine, no_agent: bool) -> Result<Route> {
    // The agent serves on Linux; elsewhere (a named pipe on Windows is planned) the
    // direct path is the only one.
    #[cfg(target_os = "linux")]
    if let Some(path) = agent_socket(engine, no_agent).await? {
        return Ok(Route::Agent(path));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (engine, no_agent);
    Ok(Route::Direct)
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
    #[cfg(target_os = "linux")]
    if let Route::Agent(path) = route {
        if let Some(handed) = client::request_token(path, connection, min_ttl, require_scopes).await? {
            return Ok(handed);
        }
        // It stopped between the check and the request: as if it never ran.
        direct(engine, Some("the app stopped"))?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = route;
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
    #[cfg(target_os = "linux")]
    if let Route::Agent(path) = route {
        if let Some(handed) = client::report_refused(path, connection, sent).await? {
            return Ok(handed);
        }
        direct(engine, Some("the app stopped"))?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = route;
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
    home: &std::path::Path,
    connection: &str,
    min_ttl: Duration,
    require_scopes: &[String],
    no_agent: bool,
) -> Result<Option<(Connection, Secret)>> {
    #[cfg(target_os = "linux")]
    if !told_direct(no_agent) {
        return client::request_token(&socket_path(home), connection, min_ttl, require_scopes).await;
    }
    let _ = (home, connection, min_ttl, require_scopes, no_agent);
    Ok(None)
}

/// Whether the direct path was chosen: `--no-agent` or GRANTKEEPER_NO_AGENT=1.
#[cfg(target_os = "linux")]
fn told_direct(no_agent: bool) -> bool {
    no_agent || std::env::var("GRANTKEEPER_NO_AGENT").is_ok_and(|v| v == "1")
}

/// The agent's socket, started if need be; None for the direct path.
#[cfg(target_os = "linux")]
async fn agent_socket(engine: &Engine, no_agent: bool) -> Result<Option<PathBuf>> {
    if told_direct(no_agent) {
        return direct(engine, None).map(|()| None);
    }
    let path = socket_path(engine.home());
    if client::is_serving(&path).await {
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
#[cfg(target_os = "linux")]
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

#[cfg(target_os = "linux")]
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// Starts the app in the background (tray only), detached from this command.
#[cfg(target_os = "linux")]
fn start_app() -> std::result::Result<(), String> {
    let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(APP)));
    let app = beside.filter(|path| path.exists()).unwrap_or_else(|| PathBuf::from(APP));
    let mut command = std::process::Command::new(&app);
    command.arg("--background").stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null());
    command.stderr(std::process::Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command.spawn().map(drop).map_err(|e| format!("the app ({}) could not be started: {e}", app.display()))
}

#[cfg(target_os = "linux")]
const APP: &str = "grantkeeper-app";

#[cfg(target_os = "linux")]
async fn serving_within(path: &Path, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if client::is_serving(path).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
