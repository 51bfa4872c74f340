//! A container resolves names through its own DNS server: sockets bound
//! on 127.0.0.11:53 inside its namespace and served from the test's
//! runtime (busybox nslookup); other names are forwarded, from the host's
//! side, to a fake upstream on the host's 127.0.0.1, never off the
//! machine. Dropping the server closes the sockets in the namespace.
//! Needs root.

mod container_support;
mod network_support;

use compose_runtime::network::dns::embedded;
use compose_runtime::network::dns::resolv::container_resolv_conf;
use compose_runtime::network::dns::table::{DnsTable, Entry, NetworkNames, View};
use compose_runtime::network::dns::DnsServer;
use compose_runtime::network::netns::on_thread;
use compose_runtime::network::{Attachment, NetworkSpec};
use network_support::*;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// A fake upstream that answers every name with 192.0.2.7.
async fn fake_upstream() -> SocketAddr {
    use hickory_proto::op::{Message, MessageType};
    use hickory_proto::rr::{rdata::A, RData, Record};
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            let Ok(req) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut reply = Message::new();
            reply
                .set_id(req.id())
                .set_message_type(MessageType::Response);
            for q in req.queries() {
                reply.add_query(q.clone());
                reply.add_answer(Record::from_rdata(
                    q.name().clone(),
                    5,
                    RData::A(A::new(192, 0, 2, 7)),
                ));
            }
            let _ = sock.send_to(&reply.to_vec().unwrap(), from).await;
        }
    });
    addr
}

/// How many sockets listen on 127.0.0.11:53 in the namespace at `netns`:
/// (UDP, TCP).
fn embedded_sockets_in(netns: &Path) -> (usize, usize) {
    on_thread(Some(netns), "read /proc/net", || {
        // 127.0.0.11:53 as /proc/net/{udp,tcp} print it.
        let local = format!(
            "{:08X}:0035",
            u32::from_ne_bytes(embedded::ADDRESS.octets())
        );
        // Bound (UDP 07) or listening (TCP 0A): not a connection's
        // TIME_WAIT.
        let count = |file: &str, state: &str| {
            std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
                .unwrap()
                .lines()
                .filter(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&state)
                })
                .count()
        };
        Ok((count("udp", "07"), count("tcp", "0A")))
    })
    .unwrap()
}

/// How many A records 127.0.0.11 gives for `name` over TCP, asked from
/// inside the namespace at `netns` (RFC 1035 4.2.2 length prefix).
fn tcp_lookup_in(netns: &Path, name: &str) -> usize {
    use hickory_proto::op::{Message, MessageType, Query};
    use hickory_proto::rr::{Name, RecordType};
    use std::io::{Read, Write};
    use std::str::FromStr;
    let mut msg = Message::new();
    msg.set_id(7)
        .set_message_type(MessageType::Query)
        .add_query(Query::query(Name::from_str(name).unwrap(), RecordType::A));
    let query = msg.to_vec().unwrap();
    let mut stream = on_thread(Some(netns), "connect", || {
        Ok(std::net::TcpStream::connect((embedded::ADDRESS, embedded::PORT)).unwrap())
    })
    .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(&(query.len() as u16).to_be_bytes())
        .unwrap();
    stream.write_all(&query).unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).unwrap();
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut reply).unwrap();
    Message::from_vec(&reply).unwrap().answers().len()
}

#[test]
fn container_resolves_names_via_its_own_server_on_127_0_0_11() {
    let fx = fixture("dns");
    let tmp = tempfile::tempdir().unwrap();
    let nets = networks(tmp.path(), "d").with_pool("10.89.128.0/20".parse().unwrap());
    let net = unique("dnsnet");
    let mut guard = Teardown::new(&nets);
    guard.networks = vec![net.clone()];
    guard.containers = vec![fx.id().to_string()];
    let rec = nets.create(&NetworkSpec::new(&net)).expect("create");
    let path = nets.create_netns(fx.id()).unwrap();
    let att = nets.attach(&Attachment::new(&net, fx.id()), &path).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut client = Attachment::new(&net, fx.id());
    client.aliases = vec!["me".into()];
    let mut entries = vec![Entry::for_attachment(&client, "client", att.address)];
    for n in 1..=2u8 {
        entries.push(Entry {
            container: format!("p-web-{n}"),
            service: "web".into(),
            aliases: vec!["www".into()],
            address: std::net::Ipv4Addr::new(10, 250, 0, n),
        });
    }
    let table = DnsTable::new(View {
        networks: vec![Arc::new(NetworkNames {
            network: net.clone(),
            entries,
            ipv6: Default::default(),
        })],
        links: [("legacy".to_string(), "p-web-2".to_string())].into(),
        upstreams: vec![],
    });
    let sockets = embedded::bind_in(&path).expect("bind in the container's namespace");
    assert_eq!(embedded_sockets_in(&path), (1, 1));
    let server = rt.block_on(async {
        let upstream = fake_upstream().await;
        DnsServer::serve(sockets, Arc::new(RwLock::new(table)), vec![upstream]).unwrap()
    });

    let mut spec = spec_in(
        &fx,
        &path,
        &[
            "sh",
            "-c",
            "cat /etc/resolv.conf; nslookup web; nslookup www; nslookup elsewhere.test; \
             nslookup me; nslookup -type=A legacy",
        ],
    );
    spec.etc.resolv_conf = container_resolv_conf(&[], &[]);
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("nameserver 127.0.0.11\noptions ndots:0\n"),
        "{out}"
    );
    for addr in ["10.250.0.1", "10.250.0.2", "192.0.2.7"] {
        assert!(
            out.contains(&format!("Address: {addr}")),
            "{addr} missing: {out}"
        );
    }
    assert!(
        out.contains(&format!("Address: {}", att.address)),
        "the alias: {out}"
    );
    assert!(
        out.contains("legacy") && out.contains("Address: 10.250.0.2"),
        "the links alias: {out}"
    );
    assert_eq!(tcp_lookup_in(&path, "www."), 2, "TCP inside the namespace");
    rt.block_on(server.close());
    drop(rt);
    assert_eq!(
        embedded_sockets_in(&path),
        (0, 0),
        "the DNS server still listens"
    );
    nets.teardown_container(fx.id()).expect("teardown");
    nets.remove(&net).expect("remove");
    assert_nothing_left(
        tmp.path(),
        &[att.host_interface, rec.bridge],
        nets.nft_table(),
    );
}
