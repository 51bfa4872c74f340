//! The sockets of a container's embedded DNS server: 127.0.0.11:53, UDP
//! and TCP, bound inside the container's network namespace (Docker's
//! embedded DNS address). They are made on a short-lived thread that
//! enters the namespace (setns is per thread, `netns::on_thread`) and
//! handed back as plain fds: a socket stays in the namespace it was
//! created in, whichever thread or runtime later serves it. Binding there
//! never meets the host's port 53 (systemd-resolved, dnsmasq, a wildcard
//! bind), and only that container can reach it.
//!
//! The sockets keep the namespace alive while they exist: the server of a
//! container that left must be dropped (the supervisor's next refresh) for
//! the kernel to take its veth pair.

use crate::network::error::NetworkError;
use crate::network::netns;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::Path;

/// Where a container's resolver asks: Docker's embedded DNS address.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
/// The DNS port.
pub const PORT: u16 = 53;

/// The listening sockets of one container's server, not yet served.
#[derive(Debug)]
pub struct DnsSockets {
    pub udp: UdpSocket,
    pub tcp: TcpListener,
    /// Where they listen (in the container's namespace).
    pub local: SocketAddr,
}

/// Bind 127.0.0.11:53 (UDP and TCP) inside the namespace at `netns` (a
/// persistent namespace file or a `/proc/<pid>/ns/net` link), non-blocking
/// and ready for [`super::DnsServer::serve`]. The namespace's `lo` must be
/// up (every namespace the network layer makes has it up): 127.0.0.0/8 is
/// local there, so no address has to be added.
pub fn bind_in(netns: &Path) -> Result<DnsSockets, NetworkError> {
    let local = SocketAddr::new(ADDRESS.into(), PORT);
    netns::on_thread(Some(netns), "bind the DNS sockets", || bind(local))
}

fn bind(local: SocketAddr) -> Result<DnsSockets, NetworkError> {
    let err = |proto, source| NetworkError::Listen {
        addr: local,
        proto,
        source,
    };
    let udp = UdpSocket::bind(local).map_err(|e| err("udp", e))?;
    udp.set_nonblocking(true).map_err(|e| err("udp", e))?;
    let tcp = TcpListener::bind(local).map_err(|e| err("tcp", e))?;
    tcp.set_nonblocking(true).map_err(|e| err("tcp", e))?;
    Ok(DnsSockets { udp, tcp, local })
}

/// The identity of the namespace at `path` (device and inode of its nsfs
/// file): a container that started again has a new namespace, and its
/// server must be bound there anew.
pub fn namespace_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}
