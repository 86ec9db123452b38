//! Who is asking: the process at the other end of the agent's socket or pipe (the
//! kernel names it) and the program it stands for, which is the first ancestor that is
//! not Grantkeeper itself, a shell or `env`: `git` for its credential helper, the
//! terminal for a command typed in it, the interpreter for a script. Paths come from
//! the system's own record of the process's executable, never from its name or command
//! line, which a process can change.

#[cfg(target_os = "linux")]
mod proc;
#[cfg(windows)]
mod snapshot;

use std::path::Path;

#[cfg(target_os = "linux")]
use proc::Processes;
#[cfg(windows)]
use snapshot::Processes;

use crate::api::Program;

/// Programs that only pass a request on: the program is whoever started them.
/// Compared without `.exe`, and on Windows in any case.
const PASS_THROUGH: &[&str] = &[
    "grantkeeper",
    "git-credential-grantkeeper",
    "sh",
    "bash",
    "dash",
    "zsh",
    "fish",
    "ksh",
    "ksh93",
    "mksh",
    "tcsh",
    "csh",
    "bsd-csh",
    // Alpine's sh and other small systems' shells.
    "busybox",
    "env",
    "cmd",
    "powershell",
    "pwsh",
];

/// Deeper than any real chain; a loop in what the system says cannot run forever.
const MAX_DEPTH: usize = 64;

/// The program behind the process `pid`; an error when the system cannot tell (the
/// process has already exited).
pub fn program_of(pid: u32) -> std::io::Result<Program> {
    let mut processes = Processes::new()?;
    let mut pid = pid;
    let mut exe = processes.executable(pid)?;
    for _ in 0..MAX_DEPTH {
        if !passes_through(&exe) {
            break;
        }
        // Not past init (pid 1 on Linux), which starts everything.
        let Some(parent) = processes.parent_of(pid).filter(|&parent| parent > 1) else { break };
        match processes.executable(parent) {
            Ok(parent_exe) => (pid, exe) = (parent, parent_exe),
            Err(_) => break,
        }
    }
    let started_from =
        processes.parent_of(pid).and_then(|parent| processes.executable(parent).ok()).map(|p| name_of(&p));
    Ok(Program {
        name: name_of(&exe),
        command_line: crate::error::provider_text(processes.command_line(pid).trim()),
        working_dir: processes.working_dir(pid),
        started_from,
        path: exe,
    })
}

fn passes_through(exe: &str) -> bool {
    let name = name_of(exe);
    PASS_THROUGH
        .iter()
        .any(|pass| if cfg!(windows) { pass.eq_ignore_ascii_case(&name) } else { *pass == name })
}

/// A path as the person sees it and rules keep it: as it is when it is printable UTF-8;
/// else each character that [misleads](crate::error::misleads) written `\u{…}` and each
/// byte that is not UTF-8 `\x{…}`, so that a program's path on screen is the one it has.
fn shown_path(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    #[cfg(not(unix))]
    let text = path.to_string_lossy();
    #[cfg(not(unix))]
    let bytes = text.as_bytes();
    let mut shown = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match crate::error::misleads(c) {
                true => shown.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
                false => shown.push(c),
            }
        }
        for byte in chunk.invalid() {
            shown.push_str(&format!("\\x{{{byte:02x}}}"));
        }
    }
    shown
}

/// An executable's name as people say it: "git", not "git.exe" or "git (deleted)".
fn name_of(path: &str) -> String {
    let path = Path::new(path);
    let name = if cfg!(windows) { path.file_stem() } else { path.file_name() };
    let name = name.map_or(path.display().to_string(), |n| n.to_string_lossy().into_owned());
    // An executable replaced while running reads "name (deleted)" in /proc.
    name.strip_suffix(" (deleted)").map_or(name.clone(), str::to_owned)
}

#[cfg(all(test, target_os = "linux"))]
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
    fn a_path_that_could_pass_for_another_is_shown_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        // Shown as is, it would read ".../sleep" (the override turns "lnib" around) on
        // two lines; and one byte is not UTF-8.
        let name = std::ffi::OsStr::from_bytes(b"x\xe2\x80\xaebin\nsleep\xff");
        let copy = dir.path().join(name);
        std::fs::copy("/bin/sleep", &copy).unwrap();
        // Another test's fork may still hold the copy open for writing for a moment.
        let mut spawned = std::process::Command::new(&copy).arg("5").spawn();
        for _ in 0..50 {
            match &spawned {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    spawned = std::process::Command::new(&copy).arg("5").spawn();
                }
                _ => break,
            }
        }
        let mut child = spawned.unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let program = program_of(child.id()).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(program.name, "x\\u{202e}bin\\u{a}sleep\\x{ff}");
        assert!(program.path.ends_with(&format!("/{}", program.name)), "{program:?}");
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
}
