//! `grantkeeper exec`: a command run with a fresh token in its environment, never on
//! its command line (where other users' `ps` and the shell history would see it).

#[cfg(unix)]
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

#[cfg(unix)]
use tokio::signal::unix::{signal, SignalKind};

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
    // Ctrl-C and Ctrl-\ go to the whole foreground process group. As with a shell, the
    // command decides what they do (a REPL carries on) and grantkeeper waits for it.
    // A handler, unlike an ignored signal, is not inherited: the command gets the usual.
    #[cfg(unix)]
    let _left_to_the_command = [SignalKind::interrupt(), SignalKind::quit()].map(signal);
    let status = std::process::Command::new(program).args(arguments).env(variable, token.expose()).status();
    match status {
        Ok(status) => std::process::exit(exit_code_of(status)),
        // A shell's exit codes and, for a path, what to check there.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            match program.contains('/') {
                true => eprintln!("grantkeeper: there is no “{program}”."),
                false => eprintln!("grantkeeper: no command “{program}” found on PATH."),
            }
            std::process::exit(127)
        }
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!(
                "grantkeeper: “{program}” cannot be run: it is not executable (chmod +x), or is not a program."
            );
            std::process::exit(126)
        }
        Err(error) => Err(Error::Internal(format!("could not run “{program}”: {error}"))),
    }
}

/// The command's own exit code as a shell passes it on: 128 and the signal's number
/// for a command a signal ended.
fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    if let Some(signal) = status.signal() {
        return 128 + signal;
    }
    status.code().unwrap_or(1)
}
