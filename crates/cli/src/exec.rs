//! `grantkeeper exec`: a command run with a fresh token in its environment, never on
//! its command line (where other users' `ps` and the shell history would see it).

#[cfg(unix)]
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use grantkeeper_engine::{Connection, Engine, Error, Result, Secret};

pub async fn run(
    engine: &Engine,
    connection: &str,
    variable: &str,
    min_ttl: Duration,
    no_agent: bool,
    command: &[String],
) -> Result<()> {
    check_variable(variable)?;
    let handed = crate::agent::token(engine, connection, min_ttl, &[], no_agent).await?;
    run_with(&handed, min_ttl, variable, command)
}

/// Refuses, before any token is fetched, a name no shell could read back, and one the
/// system reads to start the command (a token there would hide it or break its start).
pub fn check_variable(variable: &str) -> Result<()> {
    let valid_name = variable.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && variable.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(Error::invalid(
            "env",
            "That is not an environment variable name: letters, digits and _, not starting with a digit.",
        ));
    }
    let starts_the_command =
        variable == "PATH" || variable.starts_with("LD_") || variable.starts_with("DYLD_");
    if starts_the_command {
        return Err(Error::invalid(
            "env",
            format!("The system reads {variable} to start the command, so the token cannot go there. Choose another name, such as TOKEN."),
        ));
    }
    Ok(())
}

/// Runs `command` with the token handed out in `variable`, and exits with its exit code.
pub fn run_with(
    (connection, token): &(Connection, Secret),
    min_ttl: Duration,
    variable: &str,
    command: &[String],
) -> Result<()> {
    crate::output::note_if_short(connection, min_ttl);
    let (program, arguments) = command.split_first().expect("clap requires a command");
    let mut command = Command::new(program);
    command.args(arguments).env(variable, token.expose());
    let error = start_in_place(command);
    // A shell's exit codes and, for a path, what to check there.
    let named = grantkeeper_engine::error::printable(program, 500);
    match error.kind() {
        std::io::ErrorKind::NotFound => {
            // A script that is there, whose interpreter is not, fails the same way.
            match (program.contains('/'), std::path::Path::new(program).is_file()) {
                (true, true) => eprintln!(
                    "grantkeeper: “{named}” could not start: the interpreter its first line (#!) names is not there."
                ),
                (true, false) => eprintln!("grantkeeper: there is no “{named}”."),
                (false, _) => eprintln!("grantkeeper: no command “{named}” found on PATH."),
            }
            std::process::exit(127)
        }
        std::io::ErrorKind::PermissionDenied => {
            eprintln!(
                "grantkeeper: “{named}” cannot be run: it is not executable (chmod +x), or is not a program."
            );
            std::process::exit(126)
        }
        _ => Err(Error::Internal(format!("could not run “{named}”: {error}"))),
    }
}

/// Runs the command in grantkeeper's place, as `env` does: its exit status, the signals
/// that reach it (Ctrl-C reaches the whole foreground process group) and those it was
/// started ignoring are its own, but SIGPIPE, which Rust's standard library resets to
/// its default for every program it starts. Returns only when it could not start.
#[cfg(unix)]
fn start_in_place(mut command: Command) -> std::io::Error {
    command.exec()
}

/// Where a process cannot be replaced, grantkeeper waits for the command and exits with
/// its code.
#[cfg(not(unix))]
fn start_in_place(mut command: Command) -> std::io::Error {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(error) => error,
    }
}
