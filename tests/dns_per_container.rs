//! Each container's own DNS server on 127.0.0.11 (Docker's embedded
//! server), end to end through the `compose` binary and its supervisor:
//! a container's first lookup is answered (the server listens before its
//! workload runs), a `links:` alias resolves in the container that
//! declares it only, a
//! container sees the names of the networks it is on and no other,
//! answers follow `--scale` up and down, a SIGKILLed supervisor's
//! successor serves the running containers again, a stopped container's
//! server lets go of its namespace, and while something holds 0.0.0.0:53
//! on the host every container still resolves. Names that are not the
//! project's go to a fake upstream on the host's 127.0.0.1 (the services'
//! `dns:`), never off the machine. Needs root.

mod up_support;

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use up_support::{stderr, Project};

/// A resolver on the host's 127.0.0.1 that says NXDOMAIN to everything
/// and counts the questions it got.
struct FakeUpstream {
    port: u16,
    asked: Arc<AtomicUsize>,
}

fn fake_upstream() -> FakeUpstream {
    use hickory_proto::op::{Message, MessageType, ResponseCode};
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let Ok(req) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let mut reply = Message::error_msg(req.id(), req.op_code(), ResponseCode::NXDomain);
            reply.set_message_type(MessageType::Response);
            for q in req.queries() {
                reply.add_query(q.clone());
            }
            let _ = sock.send_to(&reply.to_vec().unwrap(), from);
        }
    });
    FakeUpstream { port, asked }
}

/// `nslookup NAME` in `service`: the addresses of the answer, or `None`
/// when the name is not found.
fn lookup(p: &Project, service: &str, name: &str) -> Option<Vec<Ipv4Addr>> {
    let out = p.compose(&["exec", "-T", service, "nslookup", name]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return None;
    }
    // Busybox prints the server first ("Server:", "Address:
    // 127.0.0.11:53"), then one "Address:" line per answer.
    let answers = text.split_once("Name:").map_or("", |(_, rest)| rest);
    let mut addrs: Vec<Ipv4Addr> = answers
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Address:"))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    addrs.sort();
    Some(addrs)
}

/// Retry `f` for a few seconds.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `container`'s address on the project network `key`, from ipam.json.
fn lease(p: &Project, key: &str, container: &str) -> Option<Ipv4Addr> {
    let text = std::fs::read_to_string(p.compose_root().join("networks/ipam.json")).ok()?;
    let state: serde_json::Value = serde_json::from_str(&text).ok()?;
    let network = format!("{}_{key}", p.name);
    state["networks"][&network]["leases"][container]
        .as_str()?
        .parse()
        .ok()
}

fn leases(p: &Project, key: &str, service: &str, replicas: u32) -> Vec<Ipv4Addr> {
    let mut out: Vec<Ipv4Addr> = (1..=replicas)
        .map(|n| lease(p, key, &p.container(service, n)).expect("a lease"))
        .collect();
    out.sort();
    out
}

/// Hold 0.0.0.0:53 (UDP and TCP) in the host's namespace, as a local
/// resolver (dnsmasq, a DNS container) does, which kept a server on the
/// gateway's port 53 from binding. Only when the port is free: if
/// something holds it already, that is the same situation.
fn hold_host_port_53() -> (Option<UdpSocket>, Option<TcpListener>) {
    let udp = UdpSocket::bind("0.0.0.0:53");
    let tcp = TcpListener::bind("0.0.0.0:53");
    for (proto, err) in [("udp", udp.as_ref().err()), ("tcp", tcp.as_ref().err())] {
        if let Some(e) = err {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::AddrInUse,
                "binding 0.0.0.0:53/{proto}: {e}"
            );
            eprintln!("0.0.0.0:53/{proto} is held by another program already");
        }
    }
    (udp.ok(), tcp.ok())
}

/// A host veth end of `container` on network `key` exists.
fn has_link(p: &Project, key: &str, container: &str) -> bool {
    let name = compose_runtime::network::Networks::new(p.compose_root())
        .host_ifname(&format!("{}_{key}", p.name), container);
    let links = std::process::Command::new("ip")
        .args(["-o", "link"])
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout);
    links.contains(&format!(" {name}:")) || links.contains(&format!(" {name}@"))
}

#[test]
fn links_aliases_and_networks_are_seen_by_their_consumer_only() {
    let upstream = fake_upstream();
    let dns = format!("[\"127.0.0.1:{}\"]", upstream.port);
    let p = Project::new(
        "dnsview",
        &"
services:
  db:
    image: IMAGE
    command: sleep 3600
    networks: [back]
  app:
    image: IMAGE
    command: sleep 3600
    links: [\"db:database\"]
    networks: [front, back]
    dns: DNS
  other:
    image: IMAGE
    command: sleep 3600
    networks: [back]
    dns: DNS
  early:
    image: IMAGE
    command: [\"sh\", \"-c\", \"nslookup db > /early.txt 2>&1; exec sleep 3600\"]
    depends_on: [db]
    networks: [back]
    dns: DNS
  ui:
    image: IMAGE
    command: sleep 3600
    networks: [front]
    dns: DNS
    dns_search: [corp.example]
    dns_opt: [timeout:1]
networks:
  front: {}
  back: {}
"
        .replace("DNS", &dns),
    );
    let held = hold_host_port_53();
    p.ok(&["up", "-d"]);
    let resolv = p.ok(&["exec", "-T", "ui", "cat", "/etc/resolv.conf"]);
    assert_eq!(
        resolv,
        "nameserver 127.0.0.11\nsearch corp.example\noptions ndots:0 timeout:1\n"
    );
    let db = lease(&p, "back", &p.container("db", 1)).unwrap();
    let app_front = lease(&p, "front", &p.container("app", 1)).unwrap();

    // The server listens before the workload runs: a lookup that is the
    // workload's first step is answered.
    let early = eventually("early's lookup done", || {
        let out = p.compose(&["exec", "-T", "early", "cat", "/early.txt"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && text.contains("Name:")).then_some(text)
    });
    assert!(early.contains(&format!("Address: {db}")), "{early}");

    // The alias is app's: app resolves it, other (same network) does not.
    let got = eventually("app resolves database", || lookup(&p, "app", "database"));
    assert_eq!(got, [db]);
    let asked = upstream.asked.load(Ordering::SeqCst);
    assert_eq!(lookup(&p, "other", "database"), None, "not other's alias");
    assert!(
        upstream.asked.load(Ordering::SeqCst) > asked,
        "other's unknown name went to its own dns: server"
    );
    assert_eq!(lookup(&p, "other", "db"), Some(vec![db]));
    assert_eq!(lookup(&p, "db", "database"), None, "nor the target's");

    // app is on front and back and sees both; ui (front) does not see db.
    assert_eq!(lookup(&p, "app", "db"), Some(vec![db]));
    assert_eq!(
        lookup(&p, "app", "ui"),
        Some(vec![lease(&p, "front", &p.container("ui", 1)).unwrap()])
    );
    // ui has a search domain, and busybox's nslookup then tries a name
    // without a dot with the search domains only: ask fully qualified.
    assert_eq!(lookup(&p, "ui", "db."), None, "db is on back only");
    assert_eq!(lookup(&p, "ui", "app."), Some(vec![app_front]));
    drop(held);

    // A stopped container's server lets go of its namespace: its veth
    // pair, which goes with the namespace, disappears.
    let other = p.container("other", 1);
    assert!(has_link(&p, "back", &other));
    p.ok(&["stop", "-t", "1", "other"]);
    eventually("other's veth gone", || {
        (!has_link(&p, "back", &other)).then_some(())
    });
    assert_eq!(lookup(&p, "app", "db"), Some(vec![db]), "others go on");

    let interfaces = p.network_interfaces();
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &pids);
    p.assert_no_network_left(&interfaces);
}

#[test]
fn answers_follow_scale_and_survive_a_killed_supervisor() {
    let upstream = fake_upstream();
    let p = Project::new(
        "dnsscale",
        &format!(
            "
services:
  web:
    image: IMAGE
    command: sleep 3600
  client:
    image: IMAGE
    command: sleep 3600
    dns: [\"127.0.0.1:{}\"]
",
            upstream.port
        ),
    );
    p.ok(&["up", "-d", "--scale", "web=3"]);
    let three = leases(&p, "default", "web", 3);
    let got = eventually("three replicas", || {
        lookup(&p, "client", "web").filter(|a| a.len() == 3)
    });
    assert_eq!(got, three);

    p.ok(&["up", "-d", "--scale", "web=1"]);
    let one = leases(&p, "default", "web", 1);
    assert_eq!(
        lookup(&p, "client", "web"),
        Some(one.clone()),
        "scaled down"
    );
    p.ok(&["up", "-d", "--scale", "web=2"]);
    let two = leases(&p, "default", "web", 2);
    assert_eq!(lookup(&p, "client", "web"), Some(two), "scaled up again");
    let client = lease(&p, "default", &p.container("client", 1)).unwrap();
    assert_eq!(
        lookup(&p, "web", "client"),
        Some(vec![client]),
        "a new replica's own server answers"
    );

    // The servers die with the supervisor; the next command's supervisor
    // binds them again in the running containers' namespaces (the
    // containers keep running meanwhile).
    let first = p.kill_supervisor();
    let ps = p.ok(&["ps"]);
    assert_eq!(ps.lines().filter(|l| l.contains(" Up ")).count(), 3, "{ps}");
    assert_ne!(p.supervisor_pid(), Some(first), "ps started a new one");
    let got = eventually("names again", || {
        lookup(&p, "client", "web").filter(|a| a.len() == 2)
    });
    assert_eq!(got, leases(&p, "default", "web", 2));
    assert_eq!(lookup(&p, "web", "client"), Some(vec![client]));

    let interfaces = p.network_interfaces();
    let (names, pids) = (p.container_dirs(), p.init_pids());
    let out = p.compose(&["down", "-t", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    p.assert_nothing_left(&names, &pids);
    p.assert_no_network_left(&interfaces);
}
