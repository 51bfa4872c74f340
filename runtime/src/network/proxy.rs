//! Published ports: a userspace TCP and UDP proxy on `host_ip:port` that
//! forwards each new connection (TCP) or flow (UDP, per client address) to
//! the next backend in round-robin order. The supervisor swaps the backend
//! set as replicas come and go, so a scaled service publishes one port
//! (docker-proxy does one backend; we load-balance, DESIGN.md).

pub mod holder;

use super::error::NetworkError;
use nix::sys::socket::SockType;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// How long a UDP flow without traffic keeps its backend socket.
pub const UDP_FLOW_IDLE: Duration = Duration::from_secs(30);
/// The copy buffer per direction of a TCP connection: tokio's default
/// (8 KiB) costs a syscall pair per 8 KiB; 64 KiB matches loopback's
/// segment size and lets one read drain what one write of the peer sent
/// (benches/proxy.rs).
pub const TCP_BUFFER: usize = 64 * 1024;

/// The changing set of backends and the round-robin cursor.
#[derive(Debug, Default, Clone)]
pub struct Backends {
    inner: Arc<(RwLock<Vec<SocketAddr>>, AtomicUsize)>,
}

impl Backends {
    pub fn new(addrs: Vec<SocketAddr>) -> Backends {
        let backends = Backends::default();
        backends.set(addrs);
        backends
    }

    /// Replace the set (new connections only; open ones keep theirs).
    pub fn set(&self, addrs: Vec<SocketAddr>) {
        *self.inner.0.write().unwrap_or_else(|p| p.into_inner()) = addrs;
    }

    pub fn get(&self) -> Vec<SocketAddr> {
        self.inner
            .0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The next backend in rotation, `None` when there is none.
    pub fn next(&self) -> Option<SocketAddr> {
        let addrs = self.inner.0.read().unwrap_or_else(|p| p.into_inner());
        if addrs.is_empty() {
            return None;
        }
        let n = self.inner.1.fetch_add(1, Ordering::Relaxed);
        Some(addrs[n % addrs.len()])
    }
}

/// A running proxy; dropping it stops listening at once.
#[derive(Debug)]
pub struct PortProxy {
    local: SocketAddr,
    proto: &'static str,
    task: JoinHandle<()>,
}

impl Drop for PortProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn listen_error(addr: SocketAddr, proto: &'static str, source: std::io::Error) -> NetworkError {
    if source.kind() == std::io::ErrorKind::AddrInUse {
        NetworkError::PortInUse {
            addr,
            proto,
            holder: holder::find(addr, proto),
            source,
        }
    } else {
        NetworkError::Listen {
            addr,
            proto,
            source,
        }
    }
}

impl PortProxy {
    /// Listen for TCP on `addr`; must be called inside a tokio runtime.
    pub async fn tcp(addr: SocketAddr, backends: Backends) -> Result<PortProxy, NetworkError> {
        let listener = if is_v6_wildcard(addr) {
            v6only_socket(addr, SockType::Stream)
                .and_then(|fd| TcpListener::from_std(std::net::TcpListener::from(fd)))
        } else {
            TcpListener::bind(addr).await
        }
        .map_err(|e| listen_error(addr, "tcp", e))?;
        let local = listener
            .local_addr()
            .map_err(|e| listen_error(addr, "tcp", e))?;
        let task = tokio::spawn(accept_loop(listener, backends));
        Ok(PortProxy {
            local,
            proto: "tcp",
            task,
        })
    }

    /// Listen for UDP on `addr`; must be called inside a tokio runtime.
    pub async fn udp(addr: SocketAddr, backends: Backends) -> Result<PortProxy, NetworkError> {
        let socket = if is_v6_wildcard(addr) {
            v6only_socket(addr, SockType::Datagram)
                .and_then(|fd| UdpSocket::from_std(std::net::UdpSocket::from(fd)))
        } else {
            UdpSocket::bind(addr).await
        }
        .map_err(|e| listen_error(addr, "udp", e))?;
        let local = socket
            .local_addr()
            .map_err(|e| listen_error(addr, "udp", e))?;
        let task = tokio::spawn(udp_loop(Arc::new(socket), backends));
        Ok(PortProxy {
            local,
            proto: "udp",
            task,
        })
    }

    /// Stop listening and wait until the socket is closed (a drop only
    /// asks the runtime to close it), so the port can be bound again at
    /// once.
    pub async fn close(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }

    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn proto(&self) -> &'static str {
        self.proto
    }
}

fn is_v6_wildcard(addr: SocketAddr) -> bool {
    addr.is_ipv6() && addr.ip().is_unspecified()
}

/// A non-blocking socket bound to the IPv6 wildcard `addr` with
/// IPV6_V6ONLY (ipv6(7)), so that it takes IPv6 only and can sit beside
/// the IPv4 wildcard listener of the same port, as Docker publishes a port
/// on both `0.0.0.0` and `[::]`. Listening already for a stream socket.
fn v6only_socket(addr: SocketAddr, kind: SockType) -> std::io::Result<OwnedFd> {
    use nix::sys::socket::{self, sockopt, AddressFamily, Backlog, SockFlag, SockaddrIn6};
    let SocketAddr::V6(v6) = addr else {
        return Err(std::io::ErrorKind::InvalidInput.into());
    };
    let flags = SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK;
    let fd = socket::socket(AddressFamily::Inet6, kind, flags, None)?;
    socket::setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
    // As tokio's own bind does: a port in TIME_WAIT can be reused.
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    socket::bind(fd.as_raw_fd(), &SockaddrIn6::from(v6))?;
    if kind == SockType::Stream {
        socket::listen(&fd, Backlog::MAXCONN)?;
    }
    Ok(fd)
}

async fn accept_loop(listener: TcpListener, backends: Backends) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // EMFILE and friends: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(serve_tcp(client, backends.clone()));
    }
}

/// Connect to the next backend, trying each one at most once (a replica
/// that is gone must not fail the client while another one is up).
async fn connect_backend(backends: &Backends) -> Option<TcpStream> {
    for _ in 0..backends.get().len() {
        let addr = backends.next()?;
        if let Ok(stream) = TcpStream::connect(addr).await {
            return Some(stream);
        }
    }
    None
}

async fn serve_tcp(mut client: TcpStream, backends: Backends) {
    let _ = client.set_nodelay(true);
    let Some(mut backend) = connect_backend(&backends).await else {
        return;
    };
    let _ = backend.set_nodelay(true);
    let _ =
        tokio::io::copy_bidirectional_with_sizes(&mut client, &mut backend, TCP_BUFFER, TCP_BUFFER)
            .await;
}

async fn udp_loop(socket: Arc<UdpSocket>, backends: Backends) {
    let mut flows: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((len, client)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        flows.retain(|_, flow| Arc::strong_count(flow) > 1);
        let flow = match flows.get(&client) {
            Some(flow) => flow.clone(),
            None => {
                let Some(flow) = open_flow(&socket, client, &backends).await else {
                    continue;
                };
                flows.insert(client, flow.clone());
                flow
            }
        };
        let _ = flow.send(&buf[..len]).await;
    }
}

/// A connected socket to the next backend, and a task relaying its replies
/// to `client` until the flow is idle for `UDP_FLOW_IDLE`.
async fn open_flow(
    listener: &Arc<UdpSocket>,
    client: SocketAddr,
    backends: &Backends,
) -> Option<Arc<UdpSocket>> {
    let backend = backends.next()?;
    let bind: SocketAddr = if backend.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    }
    .parse()
    .ok()?;
    let sock = UdpSocket::bind(bind).await.ok()?;
    sock.connect(backend).await.ok()?;
    let sock = Arc::new(sock);
    // Weak: the listening socket closes with the proxy, not when the last
    // flow has been idle long enough.
    let (reply, listener) = (sock.clone(), Arc::downgrade(listener));
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(Ok(len)) = tokio::time::timeout(UDP_FLOW_IDLE, reply.recv(&mut buf)).await {
            let Some(listener) = listener.upgrade() else {
                return;
            };
            let _ = listener.send_to(&buf[..len], client).await;
        }
    });
    Some(sock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn round_robin_rotates_and_follows_changes() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let backends = Backends::new(vec![a, b]);
        assert_eq!(
            [backends.next(), backends.next(), backends.next()],
            [Some(a), Some(b), Some(a)]
        );
        backends.set(vec![b]);
        assert_eq!(backends.next(), Some(b));
        backends.set(vec![]);
        assert_eq!(backends.next(), None);
    }

    async fn echo_server(tag: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(tag).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn tcp_proxy_balances_and_names_a_busy_port() {
        let backends = Backends::new(vec![echo_server(b"one").await, echo_server(b"two").await]);
        let proxy = PortProxy::tcp("127.0.0.1:0".parse().unwrap(), backends)
            .await
            .unwrap();
        let mut seen = Vec::new();
        for _ in 0..4 {
            let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
            let mut text = String::new();
            s.read_to_string(&mut text).await.unwrap();
            seen.push(text);
        }
        assert_eq!(seen, ["one", "two", "one", "two"]);
        let err = PortProxy::tcp(proxy.local_addr(), Backends::default())
            .await
            .unwrap_err();
        assert!(matches!(err, NetworkError::PortInUse { .. }));
        assert!(
            err.to_string().contains(&proxy.local_addr().to_string()),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_v6_wildcard_takes_ipv6_only_beside_the_v4_wildcard() {
        let v4 = PortProxy::tcp("0.0.0.0:0".parse().unwrap(), Backends::default())
            .await
            .unwrap();
        let port = v4.local_addr().port();
        let v6 = PortProxy::tcp(
            SocketAddr::new("::".parse().unwrap(), port),
            Backends::default(),
        )
        .await
        .expect("[::] beside 0.0.0.0 on one port");
        assert_eq!(v6.local_addr().port(), port);
        let udp4 = PortProxy::udp("0.0.0.0:0".parse().unwrap(), Backends::default())
            .await
            .unwrap();
        let udp_port = udp4.local_addr().port();
        PortProxy::udp(
            SocketAddr::new("::".parse().unwrap(), udp_port),
            Backends::default(),
        )
        .await
        .expect("udp too");
        assert!(TcpStream::connect(("::1", port)).await.is_ok());
    }

    #[tokio::test]
    async fn udp_proxy_relays_replies() {
        let backend = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let backend_addr = backend.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 64];
            while let Ok((n, from)) = backend.recv_from(&mut buf).await {
                let mut reply = b"re:".to_vec();
                reply.extend_from_slice(&buf[..n]);
                let _ = backend.send_to(&reply, from).await;
            }
        });
        let proxy = PortProxy::udp(
            "127.0.0.1:0".parse().unwrap(),
            Backends::new(vec![backend_addr]),
        )
        .await
        .unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(b"ping", proxy.local_addr()).await.unwrap();
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"re:ping");
    }
}
