//! Published ports against a direct connection (DNS lookup latency:
//! `benches/dns.rs`). Run: `cargo bench --bench proxy`.
//!
//! Without root: the userspace proxy against a direct loopback connection
//! (what the fallback costs). As root, the real paths to a server in a
//! container's network namespace behind a bridge: direct to the
//! container's address, through the kernel fast path (DNAT from
//! 127.0.0.1, as `compose up` publishes while a replica is ready) and
//! through the proxy; throughput and the latency of a fresh connection
//! with one request/response. Everything stays on this machine.

use compose_runtime::network::nft::ports::{self as nat, NatPort, PortChains};
use compose_runtime::network::proxy::{Backends, PortProxy};
use compose_runtime::network::{netns, nft, Attachment, NetworkSpec, Networks, Protocol};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes per throughput run, and runs per path.
const BYTES: usize = 256 << 20;
const RUNS: usize = 3;
/// Fresh connections per latency run.
const CONNECTIONS: usize = 2000;

/// A server that reads everything and answers with the byte count.
async fn sink() -> SocketAddr {
    serve_sink(TcpListener::bind("127.0.0.1:0").await.unwrap())
}

fn serve_sink(listener: TcpListener) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 1 << 16];
                let mut total = 0u64;
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    total += n as u64;
                }
                let _ = s.write_u64(total).await;
            });
        }
    });
    addr
}

/// A server that echoes what it reads until EOF.
fn serve_echo(listener: TcpListener) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

/// Per connection: connect, send 32 bytes, read them back, close.
async fn connect_latency(addr: SocketAddr) -> Vec<Duration> {
    let mut times = Vec::with_capacity(CONNECTIONS);
    let mut buf = [0u8; 32];
    for _ in 0..CONNECTIONS {
        let start = Instant::now();
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        s.write_all(&[1u8; 32]).await.unwrap();
        s.read_exact(&mut buf).await.unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    times
}

/// MiB/s of one run sending BYTES to `addr`.
async fn throughput(addr: SocketAddr) -> f64 {
    throughput_from(None, addr).await
}

/// Connect to `addr` from the host, or from the namespace at `netns` (the
/// socket is made there on a thread of its own and keeps that namespace).
async fn dial(netns: Option<&Path>, addr: SocketAddr) -> TcpStream {
    match netns {
        None => TcpStream::connect(addr).await.unwrap(),
        Some(path) => {
            let std = netns::on_thread(Some(path), "dial", || {
                Ok(std::net::TcpStream::connect(addr).unwrap())
            })
            .unwrap();
            std.set_nonblocking(true).unwrap();
            TcpStream::from_std(std).unwrap()
        }
    }
}

async fn throughput_from(netns: Option<&Path>, addr: SocketAddr) -> f64 {
    let chunk = vec![7u8; 1 << 16];
    let start = Instant::now();
    let mut s = dial(netns, addr).await;
    let mut sent = 0;
    while sent < BYTES {
        s.write_all(&chunk).await.unwrap();
        sent += chunk.len();
    }
    s.shutdown().await.unwrap();
    assert_eq!(s.read_u64().await.unwrap(), BYTES as u64);
    BYTES as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64()
}

/// The best of RUNS throughput runs per path, interleaved so that machine
/// noise hits every path alike.
async fn best_throughput(paths: &[SocketAddr]) -> Vec<f64> {
    let mut best = vec![0.0f64; paths.len()];
    for _ in 0..RUNS {
        for (i, addr) in paths.iter().enumerate() {
            best[i] = best[i].max(throughput(*addr).await);
        }
    }
    best
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn percentiles(times: &[Duration]) -> (f64, f64) {
    (
        micros(times[times.len() / 2]),
        micros(times[times.len() * 99 / 100]),
    )
}

/// A server in a container-like namespace on a bridge network of a
/// temporary state root, reached directly, through DNAT and through the
/// proxy. Torn down whatever happens to the measurements.
struct Container {
    root: tempfile::TempDir,
    nets: Networks,
    chains: PortChains,
}

const NETWORK: &str = "bench_default";
const CONTAINER: &str = "bench-sink-1";
const CLIENT: &str = "bench-client";
/// The host's side of the client namespace's veth (inside: .2).
const HOST_SIDE: Ipv4Addr = Ipv4Addr::new(10, 89, 252, 1);
const HOST_IF: &str = "cbbench-host";

fn ip(netns: Option<&Path>, args: &[&str]) {
    let mut cmd = Command::new("nsenter");
    if let Some(path) = netns {
        cmd.arg(format!("--net={}", path.display()));
    }
    let status = cmd.arg("ip").args(args).status().unwrap();
    assert!(status.success(), "ip {args:?}");
}

impl Container {
    fn new() -> Container {
        let root = tempfile::tempdir().unwrap();
        let nets = Networks::new(root.path());
        let chains = PortChains::new(&nft::table_for_root(root.path()), "bench");
        Container { root, nets, chains }
    }

    /// Listeners on port 8000 (sink) and 8001 (echo) inside the namespace.
    fn listen(&self) -> (Ipv4Addr, TcpListener, TcpListener) {
        self.nets.create(&NetworkSpec::new(NETWORK)).unwrap();
        let path = self.nets.create_netns(CONTAINER).unwrap();
        let attached = self
            .nets
            .attach(&Attachment::new(NETWORK, CONTAINER), &path)
            .unwrap();
        let (sink, echo) = netns::on_thread(Some(&path), "bind", || {
            let bind = |port| {
                let l = std::net::TcpListener::bind(("0.0.0.0", port)).unwrap();
                l.set_nonblocking(true).unwrap();
                l
            };
            Ok((bind(8000), bind(8001)))
        })
        .unwrap();
        (
            attached.address,
            TcpListener::from_std(sink).unwrap(),
            TcpListener::from_std(echo).unwrap(),
        )
    }
}

impl Container {
    /// A namespace standing in for another host: a veth to the host,
    /// HOST_SIDE/30 on the host's end, a default route through it.
    fn client(&self) -> PathBuf {
        let path = self.nets.create_netns(CLIENT).unwrap();
        let inside = Some(path.as_path());
        ip(
            inside,
            &[
                "link", "add", "eth0", "type", "veth", "peer", "name", HOST_IF, "netns", "1",
            ],
        );
        ip(None, &["addr", "add", "10.89.252.1/30", "dev", HOST_IF]);
        ip(None, &["link", "set", HOST_IF, "up"]);
        ip(inside, &["addr", "add", "10.89.252.2/30", "dev", "eth0"]);
        ip(inside, &["link", "set", "eth0", "up"]);
        ip(inside, &["route", "add", "default", "via", "10.89.252.1"]);
        path
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", HOST_IF]).status();
        let _ = self.nets.remove_netns(CLIENT);
        let _ = nat::apply(&self.chains, &[]);
        let _ = self.nets.teardown_container(CONTAINER);
        let _ = self.nets.remove(NETWORK);
        let _ = &self.root;
    }
}

/// The three paths to a server in a container, as root.
async fn container_paths() {
    let container = Container::new();
    let (address, sink, echo) = container.listen();
    let (sink, echo) = (serve_sink(sink), serve_echo(echo));
    let direct = [
        SocketAddr::new(address.into(), sink.port()),
        SocketAddr::new(address.into(), echo.port()),
    ];
    // The published ports: the reservation sockets the supervisor holds,
    // DNAT rules over them, and proxies on other ports.
    let client = container.client();
    let reserve = |ip: Ipv4Addr| std::net::TcpListener::bind((ip, 0)).unwrap();
    let held = [
        reserve(Ipv4Addr::LOCALHOST),
        reserve(Ipv4Addr::LOCALHOST),
        reserve(HOST_SIDE),
    ];
    let dnat: Vec<SocketAddr> = held.iter().map(|l| l.local_addr().unwrap()).collect();
    let rules: Vec<NatPort> = dnat
        .iter()
        .zip([direct[0], direct[1], direct[0]])
        .map(|(host, backend)| NatPort {
            host_ip: match host.ip() {
                std::net::IpAddr::V4(ip) => Some(ip),
                std::net::IpAddr::V6(_) => None,
            },
            host_port: host.port(),
            protocol: Protocol::Tcp,
            backends: vec![std::net::SocketAddrV4::new(address, backend.port())],
            comment: "bench".into(),
        })
        .collect();
    nat::apply(&container.chains, &rules).unwrap();
    let mut proxies = Vec::new();
    for backend in direct {
        let proxy = PortProxy::tcp("127.0.0.1:0".parse().unwrap(), Backends::new(vec![backend]))
            .await
            .unwrap();
        proxies.push(proxy);
    }
    let proxied: Vec<SocketAddr> = proxies.iter().map(|p| p.local_addr()).collect();
    let best = best_throughput(&[direct[0], dnat[0], proxied[0]]).await;
    let mib = BYTES >> 20;
    println!("to a container on a bridge network (root):");
    println!(
        "  tcp direct to the container   {:>7.0} MiB/s  ({mib} MiB, best of {RUNS})",
        best[0]
    );
    for (name, value) in [
        ("published, kernel DNAT", best[1]),
        ("published, proxy      ", best[2]),
    ] {
        println!(
            "  tcp {name}    {value:>7.0} MiB/s  ({:.0}% of direct)",
            value / best[0] * 100.0
        );
    }
    let (mut from_direct, mut from_dnat) = (0.0f64, 0.0f64);
    for _ in 0..RUNS {
        from_direct = from_direct.max(throughput_from(Some(&client), direct[0]).await);
        from_dnat = from_dnat.max(throughput_from(Some(&client), dnat[2]).await);
    }
    println!("  from another namespace (veth to the host, routed):");
    println!("  tcp direct to the container   {from_direct:>7.0} MiB/s");
    println!(
        "  tcp published, kernel DNAT    {from_dnat:>7.0} MiB/s  ({:.0}% of direct)",
        from_dnat / from_direct * 100.0
    );
    for (name, addr) in [
        ("direct                ", direct[1]),
        ("published, kernel DNAT", dnat[1]),
        ("published, proxy      ", proxied[1]),
    ] {
        let (p50, p99) = percentiles(&connect_latency(addr).await);
        println!(
            "  connect + 32 B echo, {name}  median {p50:>6.1} µs  p99 {p99:>6.1} µs  ({CONNECTIONS} connections)"
        );
    }
    drop(held);
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let backend = sink().await;
        let addr = "127.0.0.1:0".parse().unwrap();
        let proxy = PortProxy::tcp(addr, Backends::new(vec![backend]))
            .await
            .unwrap();
        let best = best_throughput(&[backend, proxy.local_addr()]).await;
        let (direct, proxied) = (best[0], best[1]);
        let mib = BYTES >> 20;
        let share = proxied / direct * 100.0;
        println!("on loopback (no root needed):");
        println!("  tcp direct       {direct:>9.0} MiB/s  ({mib} MiB, best of {RUNS})");
        println!("  tcp via proxy    {proxied:>9.0} MiB/s  ({share:.0}% of direct)");
        if nix::unistd::geteuid().is_root() {
            container_paths().await;
        } else {
            println!("(run as root for the paths to a container: direct, kernel DNAT, proxy)");
        }
    });
}
