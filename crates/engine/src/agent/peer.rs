//! Who is asking: the process at the other end of the socket (its uid and pid, from
//! the kernel's peer credentials) and the program it stands for, which is the first
//! ancestor that is not Grantkeeper itself, a shell or `env`: `git` for its credential
//! helper, the terminal for a command typed in it, the interpreter for a script. Paths
//! come from `/proc/PID/exe`, which a process cannot fake, never from its name or
//! command line.

use std::path::Path;

use crate::api::Program;

/// Programs that only pass a request on: the program is whoever started them.
const PASS_THROUGH: &[&str] = &[
    "grantkeeper",
    "git-credential-grantkeeper",
    "sh",
    "bash",
    "dash",
    "zsh",
    "fish",
    "ksh",
    "mksh",
    "tcsh",
    "csh",
    "env",
];

/// Deeper than any real chain; a loop in what /proc says cannot run forever.
const MAX_DEPTH: usize = 64;

/// The program behind the process `pid`; an error when /proc cannot tell (the process
/// has already exited, or /proc is not there).
pub fn program_of(pid: u32) -> std::io::Result<Program> {
    let mut pid = pid;
    let mut exe = executable(pid)?;
    for _ in 0..MAX_DEPTH {
        let parent = parent_of(pid)?;
        if !passes_through(&exe) || parent <= 1 {
            break;
        }
        match executable(parent) {
            Ok(parent_exe) => (pid, exe) = (parent, parent_exe),
            Err(_) => break,
        }
    }
    let started_from = parent_of(pid).ok().and_then(|parent| executable(parent).ok()).map(|p| file_name(&p));
    Ok(Program {
        name: file_name(&exe),
        path: exe,
        command_line: command_line(pid),
        working_dir: std::fs::read_link(format!("/proc/{pid}/cwd")).ok().map(|p| p.display().to_string()),
        started_from,
    })
}

fn passes_through(exe: &str) -> bool {
    PASS_THROUGH.contains(&file_name(exe).as_str())
}

fn executable(pid: u32) -> std::io::Result<String> {
    Ok(std::fs::read_link(format!("/proc/{pid}/exe"))?.display().to_string())
}

fn file_name(path: &str) -> String {
    let name = Path::new(path).file_name().map_or(path.into(), |n| n.to_string_lossy().into_owned());
    // An executable replaced while running reads "name (deleted)".
    name.strip_suffix(" (deleted)").map_or(name.clone(), str::to_owned)
}

/// The parent's pid, from `/proc/PID/stat` (after the name, which may hold spaces and
/// parentheses, so read from the last ')').
fn parent_of(pid: u32) -> std::io::Result<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name
        .split_whitespace()
        .nth(1)
        .and_then(|ppid| ppid.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "unreadable /proc stat"))
}

/// The command line, arguments joined by spaces, shown to the person: control
/// characters become spaces and it is capped.
fn command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw).replace('\0', " ");
    crate::error::provider_text(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_is_the_program_behind_itself() {
        let me = program_of(std::process::id()).unwrap();
        assert_eq!(me.path, std::env::current_exe().unwrap().display().to_string());
        assert!(me.command_line.contains(&me.name), "{me:?}");
        assert!(me.working_dir.is_some());
    }

    #[test]
    fn a_shell_passes_the_request_on_to_whoever_started_it() {
        // sh -c 'sleep' : the program behind sleep is sleep itself (not a pass-through).
        let mut child = std::process::Command::new("sh").args(["-c", "exec sleep 5"]).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let sleep = program_of(child.id()).unwrap();
        assert_eq!(sleep.name, "sleep");
        child.kill().unwrap();
        child.wait().unwrap();

        let mut shell = std::process::Command::new("sh").args(["-c", "sleep 5; true"]).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let behind_the_shell = program_of(shell.id()).unwrap();
        assert_eq!(behind_the_shell.path, std::env::current_exe().unwrap().display().to_string());
        shell.kill().unwrap();
        shell.wait().unwrap();
    }

    #[test]
    fn stat_with_a_tricky_name_is_read_from_the_last_parenthesis() {
        assert_eq!(parent_of(std::process::id()).unwrap(), std::os::unix::process::parent_id());
    }
}
