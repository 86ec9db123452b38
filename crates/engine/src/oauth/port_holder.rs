//! Who holds a loopback port, for the listener's error message only: best effort, from
//! what Linux shows in /proc, so the person knows which program to close.

use std::net::SocketAddr;

#[cfg(not(target_os = "linux"))]
pub(super) fn of(_: SocketAddr) -> Option<String> {
    None
}

/// "nc (pid 4242)", or "another user" when the listening socket is not ours (then
/// its process is not ours to see).
#[cfg(target_os = "linux")]
pub(super) fn of(address: SocketAddr) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let (uid, inode) = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .find_map(|table| table.lines().skip(1).find_map(|line| listening_on(line, address)))?;
    if uid != std::fs::metadata("/proc/self").ok()?.uid() {
        return Some("another user".into());
    }
    let link = std::path::PathBuf::from(format!("socket:[{inode}]"));
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|process| {
        let pid: u32 = process.file_name().to_str()?.parse().ok()?;
        let mut fds = std::fs::read_dir(process.path().join("fd")).ok()?.flatten();
        fds.find(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == link))?;
        let name = std::fs::read_to_string(process.path().join("comm")).ok()?;
        Some(format!("{} (pid {pid})", name.trim()))
    })
}

/// The owner's uid and the socket's inode when this /proc/net/tcp{,6} line is a
/// listening socket that keeps others off `address`.
#[cfg(target_os = "linux")]
fn listening_on(line: &str, address: SocketAddr) -> Option<(u32, String)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (local, state, uid, inode) = (fields.get(1)?, fields.get(3)?, fields.get(7)?, fields.get(9)?);
    let (ip, port) = local.split_once(':')?;
    let ip = parse_ip(ip)?;
    // The wanted address itself, or a wildcard of its family (an IPv6 wildcard also
    // takes IPv4 unless it is IPv6-only).
    let covers =
        ip.to_canonical() == address.ip() || (ip.is_unspecified() && (ip.is_ipv6() || address.is_ipv4()));
    let held = *state == "0A" && u16::from_str_radix(port, 16).ok()? == address.port() && covers;
    held.then(|| Some((uid.parse().ok()?, inode.to_string()))).flatten()
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
    use std::net::{Ipv6Addr, SocketAddr};

    #[test]
    fn the_holder_of_a_port_is_found_in_proc_net() {
        // IPv4, so it runs where IPv6 is off too.
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = holder.local_addr().unwrap();
        let named = super::of(address).unwrap();
        assert!(named.ends_with(&format!("(pid {})", std::process::id())), "{named}");
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, address.port()));
        assert_eq!(super::of(v6), None, "a listener on 127.0.0.1 does not hold [::1]");
    }
}
