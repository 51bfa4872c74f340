//! The server against a fake upstream on 127.0.0.1 (never a real one).

use super::table::{DnsTable, Entry, NetworkNames, View};
use super::*;
use hickory_proto::op::Query;
use hickory_proto::rr::Name;
use std::net::Ipv4Addr;
use std::str::FromStr;

fn query(name: &str, id: u16) -> Vec<u8> {
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(Name::from_str(name).unwrap(), RecordType::A));
    msg.to_vec().unwrap()
}

fn addresses(reply: &[u8]) -> Vec<Ipv4Addr> {
    Message::from_vec(reply)
        .unwrap()
        .answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

/// Answers every query with 192.0.2.7 (TEST-NET-1), like a real resolver.
async fn fake_upstream() -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            let req = Message::from_vec(&buf[..n]).unwrap();
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

fn view(upstreams: Vec<SocketAddr>) -> View {
    let entries = (1..=2u8)
        .map(|n| Entry {
            container: format!("p-web-{n}"),
            service: "web".into(),
            aliases: vec!["www".into()],
            address: Ipv4Addr::new(10, 89, 0, n + 1),
        })
        .collect();
    View {
        networks: vec![Arc::new(NetworkNames {
            network: "p_default".into(),
            entries,
            ipv6: Default::default(),
        })],
        links: Default::default(),
        upstreams,
    }
}

fn table() -> SharedTable {
    Arc::new(RwLock::new(DnsTable::new(view(vec![]))))
}

#[tokio::test]
async fn udp_answers_our_names_and_forwards_the_rest() {
    let server = DnsServer::spawn(
        "127.0.0.1:0".parse().unwrap(),
        table(),
        vec![fake_upstream().await],
    )
    .await
    .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(server.local_addr()).await.unwrap();
    let mut buf = [0u8; 1024];
    client.send(&query("web.", 1)).await.unwrap();
    let n = client.recv(&mut buf).await.unwrap();
    let first = addresses(&buf[..n]);
    assert_eq!(first.len(), 2);
    client.send(&query("web.", 2)).await.unwrap();
    let n = client.recv(&mut buf).await.unwrap();
    assert_eq!(addresses(&buf[..n])[0], first[1], "replicas rotate");
    client.send(&query("example.test.", 3)).await.unwrap();
    let n = client.recv(&mut buf).await.unwrap();
    assert_eq!(addresses(&buf[..n]), [Ipv4Addr::new(192, 0, 2, 7)]);
    assert_eq!(Message::from_vec(&buf[..n]).unwrap().id(), 3);
}

#[tokio::test]
async fn tcp_answers_and_servfail_without_upstream() {
    let server = DnsServer::spawn("127.0.0.1:0".parse().unwrap(), table(), vec![])
        .await
        .unwrap();
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    for (name, expect) in [("www.", Some(2)), ("nowhere.test.", None)] {
        let q = query(name, 9);
        stream.write_u16(q.len() as u16).await.unwrap();
        stream.write_all(&q).await.unwrap();
        let len = stream.read_u16().await.unwrap();
        let mut reply = vec![0u8; usize::from(len)];
        stream.read_exact(&mut reply).await.unwrap();
        let msg = Message::from_vec(&reply).unwrap();
        match expect {
            Some(count) => assert_eq!(addresses(&reply).len(), count),
            None => assert_eq!(msg.response_code(), ResponseCode::ServFail),
        }
    }
}

#[tokio::test]
async fn a_client_with_its_own_servers_is_forwarded_there() {
    let (own, host) = (fake_upstream().await, silent_upstream().await);
    let table = Arc::new(RwLock::new(DnsTable::new(view(vec![own]))));
    let server = DnsServer::spawn("127.0.0.1:0".parse().unwrap(), table, vec![host])
        .await
        .unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(server.local_addr()).await.unwrap();
    sock.send(&query("example.test.", 4)).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(UPSTREAM_TIMEOUT, sock.recv(&mut buf))
        .await
        .expect("the client's own server answers, not the silent host one")
        .unwrap();
    assert_eq!(addresses(&buf[..n]), [Ipv4Addr::new(192, 0, 2, 7)]);
    sock.send(&query("web.", 5)).await.unwrap();
    let n = sock.recv(&mut buf).await.unwrap();
    assert_eq!(addresses(&buf[..n]).len(), 2, "project names stay ours");
}

/// An upstream that never answers.
async fn silent_upstream() -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while sock.recv_from(&mut buf).await.is_ok() {}
    });
    addr
}
