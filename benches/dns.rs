//! DNS lookup latency of a container's embedded server, the path every
//! lookup of a container takes: sockets on 127.0.0.11:53 bound inside a
//! network namespace, served on a 2-worker tokio runtime (the
//! supervisor's), asked over UDP from inside that namespace; the view is
//! a container on two networks of 100 containers each, with a `links`
//! alias. As root the bench makes its own namespace (a temp bind mount,
//! removed at the end); otherwise it measures the same server on the
//! host's 127.0.0.1. Run: `cargo bench --bench dns`. Target: median < 1 ms.

use compose_runtime::network::dns::embedded;
use compose_runtime::network::dns::table::{DnsTable, Entry, NetworkNames, View};
use compose_runtime::network::dns::DnsServer;
use compose_runtime::network::netns;
use hickory_proto::op::{Message, MessageType, Query};
use hickory_proto::rr::{Name, RecordType};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const QUERIES: usize = 5000;
/// Containers per network: 25 services of 4 replicas.
const PER_NETWORK: u32 = 100;

fn query(name: &str, id: u16) -> Vec<u8> {
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .add_query(Query::query(Name::from_str(name).unwrap(), RecordType::A));
    msg.to_vec().unwrap()
}

fn network(index: u32) -> Arc<NetworkNames> {
    let entries = (0..PER_NETWORK)
        .map(|n| Entry {
            container: format!("bench-n{index}svc{}-{}", n / 4, n % 4 + 1),
            service: format!("n{index}svc{}", n / 4),
            aliases: vec![format!("alias{index}-{n}")],
            address: Ipv4Addr::from(0x0a59_0000 + (index << 8) + n + 2),
        })
        .collect();
    Arc::new(NetworkNames {
        network: format!("bench_net{index}"),
        entries,
        ipv6: Default::default(),
    })
}

fn view() -> View {
    View {
        networks: vec![network(0), network(1)],
        links: [("legacy".to_string(), "bench-n1svc3-2".to_string())].into(),
        upstreams: vec![],
    }
}

/// Ask `QUERIES` names of both networks and the link alias on `client`
/// (connected to the server); sorted round-trip times.
fn lookups(client: &UdpSocket) -> Vec<Duration> {
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 1024];
    let mut times = Vec::with_capacity(QUERIES);
    for i in 0..QUERIES {
        let (name, answers) = match i % 3 {
            0 => (format!("n0svc{}.", i % 25), 4),
            1 => (format!("n1svc{}.", i % 25), 4),
            _ => ("legacy.".to_string(), 1),
        };
        let q = query(&name, i as u16);
        let start = Instant::now();
        client.send(&q).unwrap();
        let n = client.recv(&mut buf).unwrap();
        times.push(start.elapsed());
        let reply = Message::from_vec(&buf[..n]).unwrap();
        assert_eq!(reply.answers().len(), answers, "{name}");
    }
    times.sort();
    times
}

fn report(what: &str, times: &[Duration]) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let (p50, p99) = (times[times.len() / 2], times[times.len() * 99 / 100]);
    println!(
        "{what:<44} median {:>6.1} µs   p99 {:>6.1} µs   ({QUERIES} queries)",
        us(p50),
        us(p99)
    );
}

/// The production path, in a namespace of the bench's own.
fn in_namespace(rt: &tokio::runtime::Runtime, dir: &Path) {
    let path = dir.join("netns");
    netns::create(&path).expect("create the bench's namespace");
    let sockets = embedded::bind_in(&path).unwrap();
    let server = {
        let _context = rt.enter();
        DnsServer::serve(
            sockets,
            Arc::new(RwLock::new(DnsTable::new(view()))),
            vec![],
        )
        .unwrap()
    };
    let client = netns::on_thread(Some(&path), "client", || {
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect((embedded::ADDRESS, embedded::PORT)).unwrap();
        Ok(client)
    })
    .unwrap();
    report(
        "dns lookup, 127.0.0.11 in a namespace (udp)",
        &lookups(&client),
    );
    drop(client);
    rt.block_on(server.close());
    netns::remove(&path).unwrap();
}

/// The same server on the host's loopback (no root).
fn on_loopback(rt: &tokio::runtime::Runtime) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let table = Arc::new(RwLock::new(DnsTable::new(view())));
    let server = rt.block_on(DnsServer::spawn(addr, table, vec![])).unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.connect(server.local_addr()).unwrap();
    report("dns lookup, 127.0.0.1 (udp)", &lookups(&client));
    rt.block_on(server.close());
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if nix::unistd::geteuid().is_root() {
        let dir = tempfile::tempdir().unwrap();
        in_namespace(&rt, dir.path());
    } else {
        println!("not root: measuring on the host's loopback instead of a namespace");
    }
    on_loopback(&rt);
}
