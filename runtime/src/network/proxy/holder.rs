//! Who holds a port: the listening socket in /proc/net/{tcp,tcp6,udp,udp6}
//! (proc(5): `local_address` as hex, `st` 0A = TCP_LISTEN, 07 = an unbound
//! UDP socket, then the socket's inode), and the process with that inode
//! among its /proc/<pid>/fd links (`socket:[inode]`), so that "port in use"
//! can say "held by pid 1234 (nginx)".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `pid N (comm)` of a process listening on `addr` with `proto` ("tcp" or
/// "udp"), when /proc shows one (another user's sockets may be hidden).
pub fn find(addr: SocketAddr, proto: &str) -> Option<String> {
    let mut inodes = Vec::new();
    for suffix in ["", "6"] {
        let path = format!("/proc/net/{proto}{suffix}");
        if let Ok(text) = std::fs::read_to_string(&path) {
            inodes.extend(listening_inodes(&text, proto, addr));
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for entry in std::fs::read_dir("/proc").ok()?.filter_map(Result::ok) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.filter_map(Result::ok).any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|link| targets.iter().any(|t| link.as_os_str() == t.as_str()))
        });
        if holds {
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            return Some(format!("pid {pid} ({})", comm.trim()));
        }
    }
    None
}

/// The inodes of the sockets in one /proc/net table that listen on the
/// port of `addr` at an address that overlaps it (the same one, or either
/// side a wildcard).
pub fn listening_inodes(table: &str, proto: &str, addr: SocketAddr) -> Vec<u64> {
    let listening = if proto == "udp" { "07" } else { "0A" };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
            if *state != listening {
                return None;
            }
            let (ip, port) = parse_local(local)?;
            let overlaps = ip == addr.ip() || ip.is_unspecified() || addr.ip().is_unspecified();
            (port == addr.port() && overlaps)
                .then(|| inode.parse().ok())
                .flatten()
        })
        .filter(|&inode: &u64| inode != 0)
        .collect()
}

/// `0100007F:1F90` → 127.0.0.1:8080. The address is the kernel's
/// network-order words printed as native-endian hex.
fn parse_local(text: &str) -> Option<(IpAddr, u16)> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| {
        u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16)
            .ok()
            .map(u32::to_ne_bytes)
    };
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            let v6 = Ipv6Addr::from(bytes);
            // A v4-mapped address is the v4 socket of a dual-stack one.
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 20 4 30 10 -1
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn listening_sockets_on_the_port_are_found_at_overlapping_addresses() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(listening_inodes(TCP, "tcp", at("127.0.0.1:8080")), [4242]);
        assert_eq!(listening_inodes(TCP, "tcp", at("0.0.0.0:8080")), [4242]);
        assert!(listening_inodes(TCP, "tcp", at("10.0.0.1:8080")).is_empty());
        assert_eq!(listening_inodes(TCP, "tcp", at("127.0.0.1:80")), [77]);
        assert_eq!(listening_inodes(TCP6, "tcp", at("127.0.0.1:3000")), [555]);
        assert!(
            listening_inodes(TCP, "udp", at("127.0.0.1:8080")).is_empty(),
            "0A is no UDP state"
        );
    }

    #[test]
    fn our_own_listener_is_named() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let held = find(listener.local_addr().unwrap(), "tcp").expect("found");
        assert!(
            held.starts_with(&format!("pid {} (", std::process::id())),
            "{held}"
        );
    }
}
