//! `grantkeeper exec`: a command run with a fresh token in its environment, never on
//! its command line (where other users' `ps` and the shell history would see it).

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
    let status = std::process::Command::new(program).args(arguments).env(variable, token.expose()).status();
    match status {
        // The command's own exit code, as a shell would pass it on.
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
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
