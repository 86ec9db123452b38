//! The token agent's transport on Windows: a named pipe whose access list names the
//! person's account alone, closed to other machines, and whose first instance the app
//! creates itself, so no other program can be squatting on the name. Each side checks
//! that the process at the other end runs as the person: the agent of its caller, the
//! CLI of the agent.

use std::ffi::c_void;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeClient, NamedPipeServer, ServerOptions};
use windows_sys::core::PWSTR;
use windows_sys::Win32::Foundation::{LocalFree, ERROR_PIPE_BUSY, HANDLE};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenUser, PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::System::Pipes::{GetNamedPipeClientProcessId, GetNamedPipeServerProcessId};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, OpenProcess, OpenProcessToken, PROCESS_QUERY_LIMITED_INFORMATION,
};

use crate::api::Program;
use crate::{Error, Result};

/// How long a caller waits while every instance of the pipe is taken (the agent makes
/// the next one as soon as it accepts).
const BUSY_WAIT: Duration = Duration::from_secs(2);

/// A caller's connection, as the agent holds it.
pub(super) type Accepted = NamedPipeServer;

/// The agent listening at its pipe: the instance the next caller will connect to.
pub(super) struct Listener {
    name: PathBuf,
    only_the_person: OnlyTheUser,
    next: NamedPipeServer,
}

impl Listener {
    pub(super) fn bind(name: &Path) -> std::io::Result<Self> {
        let only_the_person = OnlyTheUser::new(&own_user()?)?;
        let next = create(name, &only_the_person, true).map_err(|error| match error.kind() {
            std::io::ErrorKind::PermissionDenied => std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another program (another Grantkeeper?) already serves there",
            ),
            _ => error,
        })?;
        Ok(Self { name: name.to_owned(), only_the_person, next })
    }

    /// The next caller's connection. A new instance takes the connected one's place at
    /// once, also when connecting failed, so one broken instance cannot stop the agent.
    pub(super) async fn accept(&mut self) -> std::io::Result<Accepted> {
        let connected = self.next.connect().await;
        let next = create(&self.name, &self.only_the_person, false)?;
        let accepted = std::mem::replace(&mut self.next, next);
        connected.map(|()| accepted)
    }
}

fn create(name: &Path, only: &OnlyTheUser, first: bool) -> std::io::Result<NamedPipeServer> {
    let mut options = ServerOptions::new();
    options.first_pipe_instance(first).reject_remote_clients(true);
    let attributes = (&raw const only.attributes).cast_mut().cast::<c_void>();
    // SAFETY: the attributes and their descriptor live in `only`, beyond this call.
    unsafe { options.create_with_security_attributes_raw(name, attributes) }
}

/// Nothing to remove: a pipe ends with its last handle.
pub(super) fn unbind(_name: &Path) {}

/// The calling program, when the caller runs as the person.
pub(super) fn caller(pipe: &Accepted) -> std::result::Result<Program, String> {
    let mut pid = 0u32;
    // SAFETY: a live pipe handle and a place for the pid.
    if unsafe { GetNamedPipeClientProcessId(pipe.as_raw_handle() as HANDLE, &mut pid) } == 0 {
        return Err(format!("no client pid: {}", std::io::Error::last_os_error()));
    }
    runs_as_the_person(pid, "the caller")?;
    super::peer::program_of(pid).map_err(|e| format!("the caller's program cannot be told: {e}"))
}

/// A connection to the agent at `name`; None when nothing serves there, an error when
/// what serves there does not run as the person.
pub(super) async fn connect(name: &Path) -> Result<Option<NamedPipeClient>> {
    let deadline = Instant::now() + BUSY_WAIT;
    let client = loop {
        match ClientOptions::new().open(name) {
            Ok(client) => break client,
            Err(error)
                if error.raw_os_error() == Some(ERROR_PIPE_BUSY as i32) && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(_) => return Ok(None),
        }
    };
    let mut pid = 0u32;
    // SAFETY: a live pipe handle and a place for the pid.
    let told = unsafe { GetNamedPipeServerProcessId(client.as_raw_handle() as HANDLE, &mut pid) } != 0;
    let checked = if told {
        runs_as_the_person(pid, "the program serving there")
    } else {
        Err(format!("no server pid: {}", std::io::Error::last_os_error()))
    };
    checked.map_err(|reason| Error::AgentUnavailable { reason: format!("{}: {reason}", name.display()) })?;
    Ok(Some(client))
}

fn runs_as_the_person(pid: u32, who: &str) -> std::result::Result<(), String> {
    let unknown = |e: std::io::Error| format!("whom {who} runs as cannot be told: {e}");
    let theirs = user_of(open_process(pid).map_err(unknown)?.as_raw_handle() as HANDLE).map_err(unknown)?;
    let own = own_user().map_err(unknown)?;
    if theirs != own {
        return Err(format!("{who} runs as {theirs}, not as the person ({own})"));
    }
    Ok(())
}

/// Another process, opened to read whom it runs as; closed on drop.
fn open_process(pid: u32) -> std::io::Result<OwnedHandle> {
    // SAFETY: plain call; a null handle is the failure.
    let handle = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if handle.is_null() {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a handle just opened, owned by nothing else.
    Ok(unsafe { OwnedHandle::from_raw_handle(handle) })
}

/// Whom this process runs as.
fn own_user() -> std::io::Result<String> {
    // SAFETY: no arguments; its pseudo handle needs no closing.
    user_of(unsafe { GetCurrentProcess() })
}

/// The user a process runs as: its SID as text ("S-1-5-21-…").
fn user_of(process: HANDLE) -> std::io::Result<String> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: a live process handle and a place for the token's handle.
    if unsafe { OpenProcessToken(process, TOKEN_QUERY, &mut token) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a handle just opened, owned by nothing else.
    let owned_token = unsafe { OwnedHandle::from_raw_handle(token) };
    let token = owned_token.as_raw_handle() as HANDLE;
    let mut size = 0u32;
    // SAFETY: asks only for the size the answer needs.
    unsafe { GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut size) };
    // u64s, so that the TOKEN_USER read from it is aligned.
    let mut buffer = vec![0u64; (size as usize).div_ceil(8).max(1)];
    // SAFETY: the buffer holds `size` bytes.
    if unsafe { GetTokenInformation(token, TokenUser, buffer.as_mut_ptr().cast(), size, &mut size) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: filled in by GetTokenInformation(TokenUser), aligned for TOKEN_USER.
    let sid = unsafe { (*buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut text: PWSTR = std::ptr::null_mut();
    // SAFETY: a SID inside `buffer`, which outlives the call; the text is freed below.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a NUL-terminated wide string from ConvertSidToStringSidW, freed once.
    unsafe {
        let length = (0..).take_while(|&i| *text.add(i) != 0).count();
        let sid = String::from_utf16_lossy(std::slice::from_raw_parts(text, length));
        LocalFree(text.cast());
        Ok(sid)
    }
}

/// Security attributes that let only one user open the pipe: an access list that
/// grants that SID everything and nobody else anything, and inherits nothing.
struct OnlyTheUser {
    attributes: SECURITY_ATTRIBUTES,
}

// SAFETY: the descriptor is owned by this value alone and only read after creation.
unsafe impl Send for OnlyTheUser {}

impl OnlyTheUser {
    fn new(sid: &str) -> std::io::Result<Self> {
        let sddl: Vec<u16> = format!("D:P(A;;GA;;;{sid})").encode_utf16().chain([0]).collect();
        let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: a NUL-terminated string and a place for the descriptor, freed on drop.
        let made = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                std::ptr::null_mut(),
            )
        };
        if made == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let attributes = SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: descriptor,
            bInheritHandle: 0,
        };
        Ok(Self { attributes })
    }
}

impl Drop for OnlyTheUser {
    fn drop(&mut self) {
        // SAFETY: the descriptor ConvertStringSecurityDescriptorToSecurityDescriptorW made.
        unsafe { LocalFree(self.attributes.lpSecurityDescriptor) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_pipe(tag: &str) -> PathBuf {
        PathBuf::from(format!(r"\\.\pipe\grantkeeper-test-{tag}-{}", std::process::id()))
    }

    /// Wine (8.0) does not enforce FILE_FLAG_FIRST_PIPE_INSTANCE, so
    /// scripts/check-windows.sh --wine skips this one; it needs Windows itself.
    #[tokio::test]
    async fn a_name_another_program_took_first_is_refused() {
        let name = test_pipe("taken");
        let _first = Listener::bind(&name).unwrap();
        let taken = Listener::bind(&name).err().expect("a second first instance");
        assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse, "{taken}");
    }

    #[tokio::test]
    async fn each_side_knows_the_other_and_each_caller_gets_an_instance() {
        let name = test_pipe("serve");
        let mut listener = Listener::bind(&name).unwrap();
        let serving = tokio::spawn(async move {
            let accepted = listener.accept().await.unwrap();
            (caller(&accepted), listener)
        });
        let client = connect(&name).await.unwrap().expect("the agent serves");
        let (program, mut listener) = serving.await.unwrap();
        // This test's own executable: it is not a shell that passes requests on.
        let me = std::env::current_exe().unwrap();
        assert_eq!(program.unwrap().name, me.file_stem().unwrap().to_string_lossy());
        drop(client);

        let next = tokio::spawn(async move { listener.accept().await.map(drop) });
        assert!(connect(&name).await.unwrap().is_some());
        next.await.unwrap().unwrap();
        assert!(connect(&test_pipe("nobody")).await.unwrap().is_none());
    }

    #[test]
    fn the_access_list_names_this_user_alone() {
        let sid = own_user().unwrap();
        assert!(sid.starts_with("S-1-"), "{sid}");
        OnlyTheUser::new(&sid).unwrap();
        assert!(OnlyTheUser::new("not a SID").is_err());
    }
}
