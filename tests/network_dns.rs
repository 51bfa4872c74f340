//! A container resolves the project's names through the network's DNS
//! server on the gateway (busybox nslookup); other names are forwarded to a
//! fake upstream on 127.0.0.1, never off the machine. Needs root.

mod container_support;
mod network_support;

use compose_runtime::network::dns::resolv::container_resolv_conf;
use compose_runtime::network::dns::table::{DnsTable, Entry};
use compose_runtime::network::dns::DnsServer;
use compose_runtime::network::{Attachment, NetworkSpec};
use network_support::*;
use std::net::SocketAddr;
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

#[test]
fn container_resolves_service_names_via_the_gateway() {
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
    let mut table = DnsTable::new();
    let mut client = Attachment::new(&net, fx.id());
    client.aliases = vec!["me".into()];
    table.upsert(Entry::for_attachment(&client, "client", att.address));
    for n in 1..=2u8 {
        table.upsert(Entry {
            container: format!("p-web-{n}"),
            service: "web".into(),
            aliases: vec!["www".into()],
            address: std::net::Ipv4Addr::new(10, 250, 0, n),
        });
    }
    let server = rt.block_on(async {
        let upstream = fake_upstream().await;
        DnsServer::spawn(
            SocketAddr::new(rec.gateway.into(), 53),
            Arc::new(RwLock::new(table)),
            vec![upstream],
        )
        .await
        .unwrap()
    });

    let mut spec = spec_in(
        &fx,
        &path,
        &[
            "sh",
            "-c",
            "cat /etc/resolv.conf; nslookup web; nslookup www; nslookup elsewhere.test; nslookup me",
        ],
    );
    spec.etc.resolv_conf = container_resolv_conf(rec.gateway, &[], &[]);
    let (code, out, _) = fx.run(&spec);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!("nameserver {}\n", rec.gateway)),
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
    drop(server);
    drop(rt);
    let dns_port = format!("{:08X}:0035 ", u32::from(rec.gateway).swap_bytes());
    let udp = std::fs::read_to_string("/proc/net/udp").unwrap();
    assert!(
        !udp.contains(&dns_port),
        "the DNS server still listens: {udp}"
    );
    nets.teardown_container(fx.id()).expect("teardown");
    nets.remove(&net).expect("remove");
    assert_nothing_left(
        tmp.path(),
        &[att.host_interface, rec.bridge],
        nets.nft_table(),
    );
}
