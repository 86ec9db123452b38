//! `git-credential-grantkeeper`: the name git looks for when `credential.helper` is
//! `grantkeeper`. It runs `grantkeeper git-credential ...` with the same stdin and
//! stdout, preferring the binary installed beside it over whatever else PATH holds.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let name = if cfg!(windows) { "grantkeeper.exe" } else { "grantkeeper" };
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .filter(|path| path.is_file());
    let program = beside.map_or_else(|| "grantkeeper".into(), |path| path.into_os_string());
    match Command::new(&program).arg("git-credential").args(std::env::args_os().skip(1)).status() {
        Ok(status) => ExitCode::from(status.code().and_then(|code| u8::try_from(code).ok()).unwrap_or(1)),
        Err(error) => {
            eprintln!("git-credential-grantkeeper: could not run {}: {error}", program.to_string_lossy());
            ExitCode::from(1)
        }
    }
}
