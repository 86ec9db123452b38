//! What Linux's /proc says of a process.

/// Reads /proc afresh on each question.
pub(super) struct Processes;

impl Processes {
    pub(super) fn new() -> std::io::Result<Self> {
        Ok(Self)
    }

    /// From `/proc/PID/exe`, which a process cannot fake.
    pub(super) fn executable(&mut self, pid: u32) -> std::io::Result<String> {
        Ok(super::shown_path(&replaced_while_running(std::fs::read_link(format!("/proc/{pid}/exe"))?)))
    }

    /// From `/proc/PID/stat`, after the name, which may hold spaces and parentheses, so
    /// read from the last ')'. None when the process is gone or has no parent (0).
    pub(super) fn parent_of(&mut self, pid: u32) -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        after_name.split_whitespace().nth(1)?.parse().ok().filter(|&parent| parent != 0)
    }

    /// The arguments joined by spaces.
    pub(super) fn command_line(&mut self, pid: u32) -> String {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        String::from_utf8_lossy(&raw).replace('\0', " ")
    }

    pub(super) fn working_dir(&mut self, pid: u32) -> Option<String> {
        std::fs::read_link(format!("/proc/{pid}/cwd")).ok().map(|p| super::shown_path(&p))
    }
}

/// An executable deleted or replaced while it runs (an upgrade) reads "PATH (deleted)":
/// it is still the program at PATH, whose rules it keeps.
fn replaced_while_running(exe: std::path::PathBuf) -> std::path::PathBuf {
    match exe.to_str().and_then(|path| path.strip_suffix(" (deleted)")) {
        Some(path) if !exe.exists() => path.into(),
        _ => exe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_a_tricky_name_is_read_from_the_last_parenthesis() {
        assert_eq!(Processes.parent_of(std::process::id()), Some(std::os::unix::process::parent_id()));
    }

    #[test]
    fn a_program_upgraded_while_it_runs_keeps_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("sleeper");
        std::fs::copy("/bin/sleep", &program).unwrap();
        let mut running = std::process::Command::new(&program).arg("30").spawn().unwrap();
        std::fs::remove_file(&program).unwrap();
        std::fs::copy("/bin/sleep", &program).unwrap();
        let seen = Processes.executable(running.id());
        running.kill().unwrap();
        running.wait().unwrap();
        assert_eq!(seen.unwrap(), program.display().to_string());
        // A file that is named so is its own path.
        let odd = dir.path().join("odd (deleted)");
        std::fs::write(&odd, "").unwrap();
        assert_eq!(replaced_while_running(odd.clone()), odd);
    }
}
