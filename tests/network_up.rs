//! Names and published ports end to end, through the `compose` binary and
//! its supervisor: a service reaches another by name, the replicas of a
//! scaled service answer in rotation, a published port serves from the
//! host on 127.0.0.1 balanced over the replicas (`compose port` and `ps`
//! show it), a UDP port round-trips, the supervisor's ports come back at
//! the same host port after it is SIGKILLed, a port in use fails `up` with
//! its holder named, and `down` leaves no socket. Needs root; traffic only
//! to 127.0.0.1 and the test's own networks.

mod up_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};
use up_support::{stderr, Project};

/// `b` answers its hostname over HTTP on 8000, published on a random port
/// of 127.0.0.1; `a` is a client; `u` publishes a UDP port (the test
/// serves it inside u's namespace: busybox has no UDP server).
const WEB: &str = "
services:
  b:
    image: IMAGE
    ports: [\"127.0.0.1::8000\"]
    command: [\"sh\", \"-c\", \"mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8000 -h /www\"]
  a:
    image: IMAGE
    command: sleep 3600
  u:
    image: IMAGE
    ports: [\"127.0.0.1::9000/udp\"]
    command: sleep 3600
";

fn exec(p: &Project, service: &str, script: &str) -> String {
    let out = p.compose(&["exec", "-T", service, "sh", "-c", script]);
    assert!(
        out.status.success(),
        "exec {service} {script:?}: {}",
        stderr(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Retry `f` for a few seconds (a server in a container comes up after
/// `up -d` returns).
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

/// What a failed assertion shows: containers, their states, the
/// supervisor's log.
fn diagnose(p: &Project) -> String {
    let dir = p.root.path().join("projects").join(&p.name);
    let mut out = p.ok(&["ps", "-a"]);
    for name in p.container_dirs() {
        let state = std::fs::read_to_string(dir.join("containers").join(&name).join("state.json"));
        out.push_str(&format!("{name}: {}\n", state.unwrap_or_default()));
    }
    out.push_str(&std::fs::read_to_string(dir.join("supervisor.log")).unwrap_or_default());
    out
}

fn http_get(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1.trim().to_string();
    (text.contains("200 OK") && !body.is_empty()).then_some(body)
}

/// `compose port` output as an address.
fn port(p: &Project, args: &[&str]) -> SocketAddr {
    let mut all = vec!["port"];
    all.extend(args);
    p.ok(&all).trim().parse().expect("ip:port")
}

/// The gateway of the project's default network.
fn gateway(p: &Project) -> std::net::Ipv4Addr {
    let text = std::fs::read_to_string(p.root.path().join("networks/ipam.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    let network = format!("{}_default", p.name);
    state["networks"][&network]["gateway"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Whether a socket listens on `addr` (`0A`: TCP LISTEN, `07`: UDP bound).
fn listening(proto: &str, addr: SocketAddr) -> bool {
    let SocketAddr::V4(v4) = addr else {
        return false;
    };
    let local = format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(v4.ip().octets()),
        v4.port()
    );
    let state = if proto == "udp" { "07" } else { "0A" };
    std::fs::read_to_string(format!("/proc/net/{proto}"))
        .unwrap()
        .lines()
        .any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&state)
        })
}

fn assert_closed(sockets: &[(&str, SocketAddr)]) {
    for (proto, addr) in sockets {
        eventually(&format!("{proto} {addr} closed"), || {
            (!listening(proto, *addr)).then_some(())
        });
    }
}

/// A UDP echo server on port 9000 inside the namespace at `netns` (busybox
/// has none). Its socket keeps the namespace (and so the container's veth
/// pair) alive: drop the guard before checking that nothing is left.
struct UdpEcho {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn udp_echo_in(p: &Project, container: &str) -> UdpEcho {
    let netns = p.root.path().join("netns").join(container);
    let netns = netns.as_path();
    let sock = compose_runtime::network::netns::on_thread(Some(netns), "bind", || {
        Ok(UdpSocket::bind("0.0.0.0:9000").expect("bind in the container's netns"))
    })
    .unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                let _ = sock.send_to(&buf[..n], from);
            }
        }
    });
    UdpEcho {
        stop,
        thread: Some(thread),
    }
}

fn udp_round_trip(addr: SocketAddr) -> Option<Vec<u8>> {
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    client.send_to(b"ping", addr).ok()?;
    let mut buf = [0u8; 64];
    let n = client.recv(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

#[test]
fn services_find_each_other_by_name_and_published_ports_balance_over_replicas() {
    let p = Project::new("pub", WEB);
    p.ok(&["up", "-d", "--scale", "b=3"]);

    // By name from another service, over the network's DNS server.
    let page = eventually("a fetches http://b:8000/", || {
        let out = p.compose(&["exec", "-T", "a", "wget", "-qO-", "http://b:8000/"]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    assert!(!page.is_empty());
    // The three replicas, first answer rotating on each query (glibc's
    // getaddrinfo sorts addresses, so rotation shows in nslookup's order).
    let firsts = exec(
        &p,
        "a",
        "for i in 1 2 3 4; do nslookup b | grep -A1 '^Name:' | sed -n 2p; done",
    );
    let firsts: Vec<&str> = firsts.lines().collect();
    assert_eq!(firsts.len(), 4, "{firsts:?}");
    assert_ne!(firsts[0], firsts[1], "{firsts:?}");
    assert_ne!(firsts[1], firsts[2], "{firsts:?}");
    assert_eq!(
        firsts[0],
        firsts[3],
        "three replicas rotate: {firsts:?}\n{}",
        diagnose(&p)
    );

    // The published port: one proxy, every replica behind it.
    let web = port(&p, &["b", "8000"]);
    assert!(web.ip().is_loopback(), "{web}");
    assert_eq!(port(&p, &["--index", "2", "b", "8000"]), web);
    let mut hosts: Vec<String> = (0..6)
        .map(|_| eventually("the proxy answers", || http_get(web)))
        .collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 3, "every replica answers: {hosts:?}");

    // ps shows it as docker does, in the table and in JSON.
    let table = p.ok(&["ps"]);
    assert!(
        table.contains(&format!("{web}->8000/tcp")),
        "PORTS column: {table}"
    );
    let json = p.ok(&["ps", "--format", "json", "b"]);
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["Publishers"],
        serde_json::json!([{"URL": "127.0.0.1", "TargetPort": 8000, "PublishedPort": web.port(), "Protocol": "tcp"}])
    );

    // Not published: docker compose's message.
    let out = p.compose(&["port", "b", "9999"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!(
            "no port 9999/tcp for container {}: 8000/tcp",
            p.container("b", 1)
        )),
        "{}",
        stderr(&out)
    );

    // UDP round trip through the published udp port.
    let echo = udp_echo_in(&p, &p.container("u", 1));
    let udp = port(&p, &["--protocol", "udp", "u", "9000"]);
    let echoed = eventually("udp echo", || udp_round_trip(udp));
    assert_eq!(echoed, b"ping");
    drop(echo);

    let interfaces = p.network_interfaces();
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-t", "1"]);
    assert_closed(&[("tcp", web), ("udp", udp)]);
    p.assert_nothing_left(&names, &pids);
    p.assert_no_network_left(&interfaces);
}

#[test]
fn a_killed_supervisor_is_replaced_and_publishes_the_same_ports() {
    let p = Project::new(
        "readopt",
        "
services:
  b:
    image: IMAGE
    ports: [\"127.0.0.1::8000\"]
    command: [\"sh\", \"-c\", \"mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8000 -h /www\"]
",
    );
    p.ok(&["up", "-d"]);
    let web = port(&p, &["b", "8000"]);
    eventually("the proxy answers", || http_get(web));
    let pid_file = p
        .root
        .path()
        .join("projects")
        .join(&p.name)
        .join("supervisor.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_closed(&[("tcp", web)]);

    // The next command starts a new supervisor, which binds the same port.
    assert_eq!(port(&p, &["b", "8000"]), web);
    eventually("the proxy answers again", || http_get(web));
    // DNS is served again too.
    eventually("b by name", || {
        let out = p.compose(&["exec", "-T", "b", "wget", "-qO-", "http://b:8000/"]);
        out.status.success().then_some(())
    });
    let interfaces = p.network_interfaces();
    p.ok(&["down", "-t", "1"]);
    assert_closed(&[("tcp", web)]);
    p.assert_no_network_left(&interfaces);
}

#[test]
fn a_port_in_use_fails_up_naming_it_and_its_holder_and_starts_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().port();
    let p = Project::new(
        "busy",
        &format!(
            "
services:
  web:
    image: IMAGE
    ports: [\"127.0.0.1:{busy}:8000\"]
    command: sleep 3600
"
        ),
    );
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success(), "up must fail");
    let err = stderr(&out);
    let expected = format!(
        "port 127.0.0.1:{busy} (tcp) is already in use on the host (held by pid {} (",
        std::process::id()
    );
    assert!(err.contains(&expected), "{err}");
    let ps = p.ok(&["ps", "-a", "--format", "json"]);
    assert!(
        ps.lines().all(|l| !l.contains("\"State\":\"running\"")),
        "nothing runs: {ps}"
    );
    assert!(p.init_pids().is_empty(), "nothing started");
    let interfaces = p.network_interfaces();
    p.ok(&["down"]);
    p.assert_no_network_left(&interfaces);
    drop(taken);
}

#[test]
fn another_projects_containers_get_no_answers_from_our_dns() {
    let ours = Project::new(
        "dnsa",
        "services:\n  secret:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    let theirs = Project::new(
        "dnsb",
        // Its unknown names go to a closed port of the host's loopback
        // (answered SERVFAIL at once), never to the host's resolvers.
        "services:\n  snoop:\n    image: IMAGE\n    command: sleep 3600\n    dns: [\"127.0.0.1:9\"]\n",
    );
    ours.ok(&["up", "-d"]);
    theirs.ok(&["up", "-d"]);
    // Our own container resolves it; theirs asks its own server, which
    // knows only its project's networks, and nothing listens for DNS on
    // our gateway (each container's server is inside its namespace).
    eventually("secret resolves at home", || {
        let out = ours.compose(&["exec", "-T", "secret", "nslookup", "secret"]);
        out.status.success().then_some(())
    });
    let gw = gateway(&ours).to_string();
    for server in ["127.0.0.11", gw.as_str()] {
        let out = theirs.compose(&[
            "exec", "-T", "snoop", "timeout", "5", "nslookup", "secret", server,
        ]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(
            !out.status.success() && !text.contains("Address: 10."),
            "answered across projects by {server}: {text}"
        );
    }
    let interfaces = [ours.network_interfaces(), theirs.network_interfaces()].concat();
    ours.ok(&["down", "-t", "1"]);
    theirs.ok(&["down", "-t", "1"]);
    ours.assert_no_network_left(&interfaces);
    theirs.assert_no_network_left(&interfaces);
}

#[test]
fn names_on_an_ipv6_network_answer_aaaa_too() {
    let p = Project::new(
        "aaaa",
        "
services:
  a:
    image: IMAGE
    command: sleep 3600
    networks: [dual]
  b:
    image: IMAGE
    command: sleep 3600
    networks: [dual]
networks:
  dual:
    enable_ipv6: true
    ipam:
      config:
        - subnet: fd42:4242:77::/64
",
    );
    p.ok(&["up", "-d"]);
    let answer = eventually("b's AAAA record", || {
        let out = p.compose(&["exec", "-T", "a", "nslookup", "-type=AAAA", "b"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && text.contains("fd42:4242:77::")).then_some(text)
    });
    let v6 = exec(&p, "b", "ip -o -6 addr show dev eth0 scope global");
    let b = v6
        .split_whitespace()
        .skip_while(|w| *w != "inet6")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .unwrap_or_else(|| panic!("no inet6 in {v6:?}"));
    assert!(answer.contains(&format!("Address: {b}")), "{answer}");
    let interfaces = p.network_interfaces();
    p.ok(&["down", "-t", "1"]);
    p.assert_no_network_left(&interfaces);
}

#[test]
fn a_service_resolves_peers_on_each_of_its_networks() {
    let p = Project::new(
        "multi",
        "
services:
  web:
    image: IMAGE
    command: sleep 3600
    networks: [alpha, zulu]
  db:
    image: IMAGE
    command: [\"sh\", \"-c\", \"mkdir -p /www && echo db here > /www/index.html && exec httpd -f -p 8000 -h /www\"]
    networks: [zulu]
networks:
  alpha: {}
  zulu: {}
",
    );
    p.ok(&["up", "-d"]);
    // web asks its own server, which knows both of its networks.
    let resolv = exec(&p, "web", "cat /etc/resolv.conf");
    assert!(resolv.starts_with("nameserver 127.0.0.11\n"), "{resolv}");
    let page = eventually("web fetches http://db:8000/", || {
        let out = p.compose(&["exec", "-T", "web", "wget", "-qO-", "http://db:8000/"]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    });
    assert_eq!(page, "db here\n");
    let interfaces = p.network_interfaces();
    p.ok(&["down", "-t", "1"]);
    p.assert_no_network_left(&interfaces);
}

#[test]
fn projects_sharing_an_external_network_resolve_each_others_services() {
    let p = Project::new(
        "share-own",
        "
services:
  web:
    image: IMAGE
    command: [\"sh\", \"-c\", \"mkdir -p /www && echo shared > /www/index.html && exec httpd -f -p 8000 -h /www\"]
    networks: [shared]
networks:
  shared:
    name: SHARED
",
    );
    let shared = format!("{}_shared_net", p.name);
    p.write(
        &std::fs::read_to_string(p.dir.join("compose.yaml"))
            .unwrap()
            .replace("SHARED", &shared),
    );
    let q = p.sibling(
        "share-use",
        &format!(
            "
services:
  client:
    image: IMAGE
    command: sleep 3600
    networks: [outside]
  peer:
    image: IMAGE
    command: sleep 3600
    networks: [outside]
networks:
  outside:
    external: true
    name: {shared}
"
        ),
    );
    p.ok(&["up", "-d"]);
    q.ok(&["up", "-d"]);
    let resolves = |project: &Project, service: &str, name: &str| {
        eventually(&format!("{service} resolves {name}"), || {
            let out = project.compose(&["exec", "-T", service, "nslookup", name]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            (out.status.success() && text.contains("Address: 10.")).then_some(())
        })
    };
    // Across projects both ways, and the user's own names on the network
    // (its containers ask the owner's server).
    resolves(&q, "client", "web");
    resolves(&p, "web", "client");
    resolves(&q, "client", "peer");
    let page = q.compose(&[
        "exec",
        "-T",
        "client",
        "wget",
        "-qO-",
        "http://web:8000/index.html",
    ]);
    assert_eq!(String::from_utf8_lossy(&page.stdout), "shared\n");
    // The user's down leaves the network it does not own.
    let interfaces = p.network_interfaces();
    q.ok(&["down", "-t", "1"]);
    assert!(p.network_interfaces().iter().any(|i| i.starts_with("cb-")));
    let alive = p.compose(&["exec", "-T", "web", "true"]);
    assert!(alive.status.success());
    p.ok(&["down", "-t", "1"]);
    p.assert_no_network_left(&interfaces);
}
