//! Who holds a loopback port, for the listener only: best effort, from what Linux shows
//! in /proc, so the person knows which program to close, and the listener knows when a
//! port will free itself.

use std::net::SocketAddr;

/// What keeps a listener off an address.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Holder {
    /// A program listening on it: "nc (pid 4242)", or "another user" when the socket is
    /// not ours (then its process is not ours to see).
    Listener(String),
    /// Grantkeeper itself (the app or the CLI), waiting for another sign-in's answer.
    SignIn,
    /// An open connection whose local end it is, with its program where ours to see.
    Connection(Option<String>),
    /// Only connections that are closing (TIME_WAIT and the like): the system frees
    /// the port within a minute.
    Closing,
}

impl Holder {
    /// How the error message says it.
    pub(super) fn described(&self) -> String {
        match self {
            Holder::Listener(program) => format!("in use by {program}"),
            Holder::SignIn => {
                "another Grantkeeper sign-in is waiting there for its answer; finish or cancel it first"
                    .into()
            }
            Holder::Connection(Some(program)) => format!("in use by a connection of {program}"),
            Holder::Connection(None) => "in use by an open connection".into(),
            Holder::Closing => "held by a closing connection; the system frees it within a minute".into(),
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn of(_: SocketAddr) -> Option<Holder> {
    None
}

/// A listener first (it will not go away), then an open connection, then closing ones.
#[cfg(target_os = "linux")]
pub(super) fn of(address: SocketAddr) -> Option<Holder> {
    let sockets: Vec<Socket> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| table.lines().skip(1).filter_map(Socket::parse).collect::<Vec<_>>())
        .filter(|socket| socket.keeps_off(address))
        .collect();
    if let Some(listener) = sockets.iter().find(|socket| socket.state == LISTEN) {
        return Some(match listener.owner() {
            Some(owner) if owner.is_grantkeeper() => Holder::SignIn,
            Some(owner) => Holder::Listener(owner.to_string()),
            None => Holder::Listener("another program".into()),
        });
    }
    if let Some(open) = sockets.iter().find(|socket| !CLOSING.contains(&socket.state)) {
        return Some(Holder::Connection(open.owner().map(|owner| owner.to_string())));
    }
    (!sockets.is_empty()).then_some(Holder::Closing)
}

/// /proc/net/tcp's states: LISTEN, and those a connection ends in by itself (FIN_WAIT1,
/// FIN_WAIT2, TIME_WAIT, CLOSE, LAST_ACK, CLOSING), each within a minute on Linux.
#[cfg(target_os = "linux")]
const LISTEN: u8 = 0x0A;
#[cfg(target_os = "linux")]
const CLOSING: [u8; 6] = [0x04, 0x05, 0x06, 0x07, 0x09, 0x0B];

/// One line of /proc/net/tcp{,6}.
#[cfg(target_os = "linux")]
struct Socket {
    ip: std::net::IpAddr,
    port: u16,
    state: u8,
    uid: u32,
    inode: String,
}

#[cfg(target_os = "linux")]
impl Socket {
    fn parse(line: &str) -> Option<Socket> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (local, state, uid, inode) = (fields.get(1)?, fields.get(3)?, fields.get(7)?, fields.get(9)?);
        let (ip, port) = local.split_once(':')?;
        Some(Socket {
            ip: parse_ip(ip)?,
            port: u16::from_str_radix(port, 16).ok()?,
            state: u8::from_str_radix(state, 16).ok()?,
            uid: uid.parse().ok()?,
            inode: inode.to_string(),
        })
    }

    /// Whether binding `address` conflicts with it: the same port on the wanted address
    /// itself, or on a wildcard of its family (an IPv6 wildcard also takes IPv4 unless
    /// it is IPv6-only).
    fn keeps_off(&self, address: SocketAddr) -> bool {
        let ip = self.ip;
        self.port == address.port()
            && (ip.to_canonical() == address.ip()
                || (ip.is_unspecified() && (ip.is_ipv6() || address.is_ipv4())))
    }

    /// Who has it; None where no process has it (a closing connection) or it cannot be
    /// seen.
    fn owner(&self) -> Option<Owner> {
        use std::os::unix::fs::MetadataExt;
        if self.uid != std::fs::metadata("/proc/self").ok()?.uid() {
            return Some(Owner::AnotherUser);
        }
        let link = std::path::PathBuf::from(format!("socket:[{}]", self.inode));
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|process| {
            let pid: u32 = process.file_name().to_str()?.parse().ok()?;
            let mut fds = std::fs::read_dir(process.path().join("fd")).ok()?.flatten();
            fds.find(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == link))?;
            let name = std::fs::read_to_string(process.path().join("comm")).ok()?;
            Some(Owner::Process { name: name.trim().to_owned(), pid })
        })
    }
}

/// The owner of a socket: one of this user's processes, or another user (whose process
/// is not ours to see).
#[cfg(target_os = "linux")]
enum Owner {
    Process { name: String, pid: u32 },
    AnotherUser,
}

#[cfg(target_os = "linux")]
impl Owner {
    /// The app or the CLI, by its process name (the kernel keeps 15 characters).
    fn is_grantkeeper(&self) -> bool {
        matches!(self, Owner::Process { name, .. } if name == "grantkeeper" || name == "grantkeeper-app")
    }
}

/// "nc (pid 4242)", or "another user".
#[cfg(target_os = "linux")]
impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Process { name, pid } => write!(f, "{name} (pid {pid})"),
            Owner::AnotherUser => f.write_str("another user"),
        }
    }
}

/// /proc/net writes an address as 32-bit words in hex, each in the host's byte order.
#[cfg(target_os = "linux")]
fn parse_ip(hex: &str) -> Option<std::net::IpAddr> {
    let mut bytes = Vec::with_capacity(16);
    for word in 0..hex.len() / 8 {
        let word = u32::from_str_radix(hex.get(word * 8..word * 8 + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    match <[u8; 16]>::try_from(bytes.as_slice()) {
        Ok(v6) => Some(v6.into()),
        Err(_) => Some(<[u8; 4]>::try_from(bytes.as_slice()).ok()?.into()),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Read;
    use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};

    use super::{of, Holder};

    fn ours(program: &str) -> bool {
        program.ends_with(&format!("(pid {})", std::process::id()))
    }

    #[test]
    fn the_holder_of_a_port_is_found_in_proc_net() {
        // IPv4, so it runs where IPv6 is off too.
        let holder = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = holder.local_addr().unwrap();
        assert!(matches!(of(address), Some(Holder::Listener(program)) if ours(&program)));
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, address.port()));
        assert_eq!(of(v6), None, "a listener on 127.0.0.1 does not hold [::1]");
    }

    /// An outgoing connection's local port is taken from the range fixed callback ports
    /// lie in: while it is open it is named, and once it closes the port is only waited for.
    #[test]
    fn a_connection_holding_the_port_is_told_from_a_listener() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(server.local_addr().unwrap()).unwrap();
        let (mut accepted, _) = server.accept().unwrap();
        let local = client.local_addr().unwrap();
        assert!(matches!(of(local), Some(Holder::Connection(Some(program))) if ours(&program)));

        // The client closes first, so its end waits in TIME_WAIT.
        drop(client);
        accepted.read_exact(&mut [0]).unwrap_err();
        drop(accepted);
        let closing = (0..50).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            of(local) == Some(Holder::Closing)
        });
        assert!(closing, "{:?}", of(local));
    }
}
