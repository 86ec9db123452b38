//! What Windows says of a process, through sysinfo: every process's parent and start
//! time once, and the path, command line and folder of those the rule asks about.

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

pub(super) struct Processes(System);

impl Processes {
    pub(super) fn new() -> std::io::Result<Self> {
        let mut system = System::new().map_err(|e| std::io::Error::other(e.to_string()))?;
        system.refresh_processes_specifics(ProcessesToUpdate::All, true, ProcessRefreshKind::nothing());
        Ok(Self(system))
    }

    /// One process, with its path, command line and folder read.
    fn read(&mut self, pid: u32) -> Option<&sysinfo::Process> {
        let pid = Pid::from_u32(pid);
        let details = ProcessRefreshKind::nothing()
            .with_exe(UpdateKind::OnlyIfNotSet)
            .with_cmd(UpdateKind::OnlyIfNotSet)
            .with_cwd(UpdateKind::OnlyIfNotSet);
        self.0.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, details);
        self.0.process(pid)
    }

    pub(super) fn executable(&mut self, pid: u32) -> std::io::Result<String> {
        let path = self.read(pid).and_then(|process| process.exe()).map(super::shown_path);
        path.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("process {pid} cannot be read"))
        })
    }

    /// None when it has none or it has exited: Windows gives a dead parent's pid to
    /// the next process, so a "parent" started after its child is someone else.
    pub(super) fn parent_of(&mut self, pid: u32) -> Option<u32> {
        let child = self.0.process(Pid::from_u32(pid))?;
        let parent = self.0.process(child.parent()?)?;
        (parent.start_time() <= child.start_time()).then(|| parent.pid().as_u32())
    }

    pub(super) fn command_line(&mut self, pid: u32) -> String {
        let arguments = self.read(pid).map(|process| process.cmd().to_vec()).unwrap_or_default();
        arguments.iter().map(|argument| argument.to_string_lossy()).collect::<Vec<_>>().join(" ")
    }

    pub(super) fn working_dir(&mut self, pid: u32) -> Option<String> {
        self.read(pid)?.cwd().map(super::shown_path)
    }
}
