//! Published-port proxy throughput against a direct connection (DNS
//! latency: `benches/dns.rs`). Everything on 127.0.0.1; no root needed.
//! Run: `cargo bench --bench proxy`.
//!
//! The proxy is a userspace copy (as docker-proxy is), so it costs a
//! multiple of a direct loopback connection; what matters is that it stays
//! far above what a dev environment pushes through one port.

use compose_runtime::network::proxy::{Backends, PortProxy};
use std::net::SocketAddr;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes per throughput run, and runs per path.
const BYTES: usize = 256 << 20;
const RUNS: usize = 3;

/// A server that reads everything and answers with the byte count.
async fn sink() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
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

/// MiB/s of one run sending BYTES to `addr`.
async fn throughput(addr: SocketAddr) -> f64 {
    let chunk = vec![7u8; 1 << 16];
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut sent = 0;
    while sent < BYTES {
        s.write_all(&chunk).await.unwrap();
        sent += chunk.len();
    }
    s.shutdown().await.unwrap();
    assert_eq!(s.read_u64().await.unwrap(), BYTES as u64);
    BYTES as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64()
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
        // Interleaved, best of RUNS each, so machine noise hits both alike.
        let (mut direct, mut proxied) = (0.0f64, 0.0f64);
        for _ in 0..RUNS {
            direct = direct.max(throughput(backend).await);
            proxied = proxied.max(throughput(proxy.local_addr()).await);
        }
        let mib = BYTES >> 20;
        let share = proxied / direct * 100.0;
        println!("tcp direct       {direct:>9.0} MiB/s  ({mib} MiB, best of {RUNS})");
        println!("tcp via proxy    {proxied:>9.0} MiB/s  ({share:.0}% of direct)");
    });
}
