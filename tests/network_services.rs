//! The supervisor's network services against real containers, driven
//! through the project executor as the supervisor drives it: names resolve
//! on each container's own DNS server (replicas in rotation, links aliases,
//! a container's own `dns:` servers as upstream), a published port serves
//! from 127.0.0.1 balanced over replicas (TCP and UDP), a port in use fails
//! the start and names its holder, a new `NetServices` re-adopts what runs
//! (the same random port), and after the teardown no socket, link, netns
//! or nft table is left. Needs root.

mod container_support;
mod network_support;

use compose_runtime::container::{Container, ContainerSpec, InitProgram, Status};
use compose_runtime::network::{nft, Attachment, Link, NetworkSpec, Networks, Protocol};
use compose_runtime::network::{NetworkRecord, PublishedPort};
use compose_runtime::project::ops::CreateRequest;
use compose_runtime::project::record::DnsSettings;
use compose_runtime::project::{execute, observe, ContainerRecord, Env, OnFailure, Op};
use compose_runtime::project::{ProjectDir, Services, Step};
use compose_runtime::supervisor::netsvc::NetServices;
use container_support::{init_program, Fixture};
use network_support::*;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// Applets these tests run beyond the fixtures' own.
const APPLETS: [&str; 3] = ["wget", "httpd", "seq"];

/// One test project: its containers run on the fixture's busybox rootfs.
struct Project {
    fx: Fixture,
    dir: ProjectDir,
    network: String,
    init: InitProgram,
    containers: Vec<String>,
}

impl Project {
    fn new(tag: &str) -> Project {
        let fx = fixture(tag);
        for applet in APPLETS {
            let _ = std::os::unix::fs::symlink("busybox", fx.rootfs.join("bin").join(applet));
        }
        let name = unique(tag);
        Project {
            dir: ProjectDir::new(fx.root.path(), &name),
            network: format!("{name}_default"),
            fx,
            init: init_program(),
            containers: Vec::new(),
        }
    }

    fn env<'a>(&'a self, services: &'a dyn Services) -> Env<'a> {
        Env {
            init: &self.init,
            services,
        }
    }

    fn run(&self, services: &dyn Services, ops: Vec<Op>, parallel: bool) -> Result<(), String> {
        let steps: Vec<Step> = ops
            .into_iter()
            .enumerate()
            .map(|(i, op)| Step {
                op,
                after: if parallel || i == 0 {
                    vec![]
                } else {
                    vec![i - 1]
                },
            })
            .collect();
        execute(
            &self.dir,
            &steps,
            &self.env(services),
            OnFailure::Stop,
            &|_, _| {},
        )
        .map_err(|e| e.to_string())
    }

    /// A container record of `service` on the project network.
    fn record(&mut self, service: &str, n: u32, script: &str) -> ContainerRecord {
        let name = format!("{}-{service}-{n}", self.dir.name());
        self.containers.push(name.clone());
        let args = vec!["sh".to_string(), "-c".to_string(), script.to_string()];
        let mut spec = ContainerSpec::new(&name, vec![self.fx.rootfs.clone()], args);
        spec.hostname = format!("{service}{n}");
        ContainerRecord {
            name: name.clone(),
            project: self.dir.name().to_string(),
            service: service.to_string(),
            number: n,
            id: format!("{:064x}", n),
            image: "busybox".into(),
            image_id: String::new(),
            config_hash: String::new(),
            config: serde_json::Value::Null,
            created_at: "2026-01-01T00:00:00Z".into(),
            stop_signal: "SIGKILL".into(),
            stop_grace_period_ms: 1000,
            volumes: vec![],
            restart: Default::default(),
            networks: vec![Attachment::new(&self.network, &name)],
            dns: DnsSettings::default(),
            ports: vec![],
            exposed: vec![],
            links: vec![],
            hooks: Default::default(),
            healthcheck: None,
            spec,
        }
    }

    fn network_op(&self) -> Op {
        Op::CreateNetwork {
            spec: Box::new(NetworkSpec::new(&self.network)),
            external: false,
        }
    }

    fn network_record(&self) -> NetworkRecord {
        Networks::new(self.fx.root.path())
            .get(&self.network)
            .unwrap()
            .expect("the network exists")
    }

    /// Wait for a one-shot container to exit; its stdout.
    fn output(&self, name: &str) -> String {
        let dir = self.dir.container_dir(name);
        let exit = Container::load(&dir)
            .unwrap()
            .wait_timeout(Duration::from_secs(30))
            .unwrap();
        assert!(exit.is_some(), "{name} did not finish");
        let log = std::fs::read_to_string(dir.join("log.jsonl")).unwrap_or_default();
        compose_runtime::container::log::parse_log(&log)
            .unwrap()
            .into_iter()
            .map(|e| e.log)
            .collect()
    }

    /// Remove every container and the network, then refresh the services
    /// as the supervisor does after each request.
    fn down(&self, services: &dyn Services) {
        let mut steps = Vec::new();
        for name in self
            .containers
            .iter()
            .filter(|c| self.dir.container_dir(c).exists())
        {
            steps.push(Step {
                op: Op::RemoveContainer {
                    name: name.clone(),
                    volumes: false,
                },
                after: vec![],
            });
        }
        let after = (0..steps.len()).collect();
        steps.push(Step {
            op: Op::RemoveNetwork {
                name: self.network.clone(),
            },
            after,
        });
        let _ = execute(
            &self.dir,
            &steps,
            &self.env(services),
            OnFailure::Continue,
            &|_, _| {},
        );
        services.refresh();
    }

    /// Nothing of the project is left on the machine.
    fn assert_gone(&self, rec: &NetworkRecord, ports: &[(Protocol, SocketAddr)]) {
        let mut interfaces = vec![rec.bridge.clone()];
        for c in &self.containers {
            interfaces.push(Networks::new(self.fx.root.path()).host_ifname(&self.network, c));
        }
        assert_nothing_left(
            self.fx.root.path(),
            &interfaces,
            &nft::table_for_root(self.fx.root.path()),
        );
        for &(proto, addr) in ports {
            wait_until(&format!("{addr} ({proto}) closed"), || {
                !listening(proto, addr)
            });
        }
        let netns = self.fx.root.path().join("netns");
        let left: Vec<_> = std::fs::read_dir(&netns)
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "netns files left: {left:?}");
    }
}

impl Drop for Project {
    /// A failed assertion must not leave containers, links or the table.
    fn drop(&mut self) {
        self.down(&compose_runtime::project::NoServices);
    }
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether /proc/net lists a listening socket on exactly `addr`.
fn listening(proto: Protocol, addr: SocketAddr) -> bool {
    let (file, state) = match proto {
        Protocol::Tcp => ("/proc/net/tcp", "0A"),
        Protocol::Udp => ("/proc/net/udp", "07"),
    };
    let SocketAddr::V4(v4) = addr else {
        return false;
    };
    let local = format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(v4.ip().octets()),
        v4.port()
    );
    std::fs::read_to_string(file).unwrap().lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&state)
    })
}

fn published(
    host_ports: Option<(u16, u16)>,
    container_port: u16,
    proto: Protocol,
) -> PublishedPort {
    PublishedPort {
        host_ip: Some(Ipv4Addr::LOCALHOST.into()),
        host_ports,
        container_port,
        protocol: proto,
    }
}

/// `GET /` through `addr`, retried while the server comes up.
fn http_get(addr: SocketAddr) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = TcpStream::connect(addr)?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text)
        })();
        match attempt {
            Ok(text) if text.contains("200 OK") => {
                return text.rsplit("\r\n\r\n").next().unwrap().trim().to_string();
            }
            _ if Instant::now() > deadline => panic!("nothing served through {addr}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
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

fn udp_echo_in(netns: &std::path::Path) -> UdpEcho {
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

/// A web server answering its hostname on port 8000.
const HTTPD: &str =
    "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8000 -h /tmp/www";

fn create(record: ContainerRecord) -> Op {
    Op::CreateContainer {
        request: Box::new(CreateRequest {
            record,
            volumes: vec![],
            host_dirs: vec![],
        }),
    }
}

/// A resolver on 127.0.0.1 that answers every A question with 192.0.2.7
/// (TEST-NET-1): forwarded names never leave the machine.
fn fake_upstream() -> SocketAddr {
    use hickory_proto::op::{Message, MessageType};
    use hickory_proto::rr::{rdata::A, RData, Record};
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let Ok(req) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut reply = Message::new();
            reply
                .set_id(req.id())
                .set_message_type(MessageType::Response);
            for q in req.queries() {
                reply.add_query(q.clone());
                if q.query_type() == hickory_proto::rr::RecordType::A {
                    reply.add_answer(Record::from_rdata(
                        q.name().clone(),
                        5,
                        RData::A(A::new(192, 0, 2, 7)),
                    ));
                }
            }
            let _ = sock.send_to(&reply.to_vec().unwrap(), from);
        }
    });
    addr
}

#[test]
fn names_resolve_and_published_ports_balance_over_replicas() {
    let mut p = Project::new("nsv");
    // No host resolver: only the client's own `dns:` server answers
    // names that are not the project's.
    let services = NetServices::new(p.dir.clone())
        .unwrap()
        .with_upstreams(vec![]);
    let mut ops = vec![p.network_op()];
    let mut starts = Vec::new();
    for n in 1..=2 {
        let mut web = p.record("web", n, HTTPD);
        web.networks[0].aliases = vec!["www".into()];
        web.ports = vec![published(None, 8000, Protocol::Tcp)];
        starts.push(Op::StartContainer {
            name: web.name.clone(),
        });
        ops.push(create(web));
    }
    // Busybox has no UDP server: the test serves UDP inside its netns.
    let mut echo = p.record("echo", 1, "exec sleep 1000");
    echo.ports = vec![published(None, 9000, Protocol::Udp)];
    starts.push(Op::StartContainer {
        name: echo.name.clone(),
    });
    ops.push(create(echo));
    p.run(&services, ops, false).expect("create");
    // The replicas start in parallel: their proxy is published once.
    p.run(&services, starts, true).expect("start");
    let rec = p.network_record();
    assert_eq!(rec.leases.len(), 3, "{rec:?}");

    let entries = services.ports();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let tcp = entries.iter().find(|e| e.service == "web").unwrap();
    let udp = entries.iter().find(|e| e.service == "echo").unwrap();
    assert_ne!(tcp.host_port, 0);
    let on_disk: Vec<compose_runtime::supervisor::netsvc::ports::PortEntry> =
        serde_json::from_slice(&std::fs::read(p.dir.dir().join("ports.json")).unwrap()).unwrap();
    assert_eq!(on_disk, entries);

    let web_addr = SocketAddr::new(tcp.host_ip, tcp.host_port);
    // Both servers up (straight to their addresses), then through the proxy.
    for (name, addr) in &rec.leases {
        if name.contains("-web-") {
            http_get(SocketAddr::new((*addr).into(), 8000));
        }
    }
    let mut seen: Vec<String> = (0..4).map(|_| http_get(web_addr)).collect();
    assert_eq!(seen[0..2], seen[2..4], "round-robin: {seen:?}");
    seen.sort();
    seen.dedup();
    assert_eq!(seen, ["web1", "web2"]);

    let echo = udp_echo_in(
        &Networks::new(p.fx.root.path()).netns_path(&format!("{}-echo-1", p.dir.name())),
    );
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let udp_addr = SocketAddr::new(udp.host_ip, udp.host_port);
    let mut echoed = None;
    for _ in 0..20 {
        client.send_to(b"ping\n", udp_addr).unwrap();
        let mut buf = [0u8; 64];
        if let Ok(n) = client.recv(&mut buf) {
            echoed = Some(buf[..n].to_vec());
            break;
        }
    }
    assert_eq!(echoed.as_deref(), Some(&b"ping\n"[..]), "udp round trip");
    drop(echo);

    // A client on the network: names, aliases, rotation, links, forwarding.
    // wget's getaddrinfo sorts addresses (RFC 6724 rule 9, longest
    // matching prefix), so rotation shows in nslookup's answer order.
    let script = "wget -qO- http://web:8000/; wget -qO- http://www:8000/; \
                  wget -qO- http://legacy:8000/; \
                  for i in 1 2 3 4; do nslookup web | grep -A1 '^Name:' | sed -n 2p; done; \
                  nslookup web; nslookup elsewhere.test || echo NOT-FOUND";
    let mut client = p.record("client", 1, script);
    client.dns.servers = vec![fake_upstream().to_string()];
    client.links = vec![Link {
        container: format!("{}-web-1", p.dir.name()),
        alias: "legacy".into(),
    }];
    let name = client.name.clone();
    p.run(
        &services,
        vec![create(client), Op::StartContainer { name: name.clone() }],
        false,
    )
    .expect("client");
    let out = p.output(&name);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() > 7, "{out}");
    assert!(lines[0].starts_with("web"), "by service name: {out}");
    assert!(lines[1].starts_with("web"), "by alias: {out}");
    assert_eq!(
        lines[2], "web1",
        "the links alias is the linked container: {out}"
    );
    let firsts = &lines[3..7];
    assert!(
        firsts[0] != firsts[1] && firsts[0] == firsts[2] && firsts[1] == firsts[3],
        "answers rotate: {out}"
    );
    let leases = p.network_record().leases;
    for web in ["web-1", "web-2"] {
        let addr = leases[&format!("{}-{web}", p.dir.name())];
        assert!(out.contains(&format!("Address: {addr}")), "{out}");
    }
    assert!(out.contains("Address: 192.0.2.7"), "forwarded: {out}");

    // A stopped service gives its port back, as Docker's do.
    p.run(
        &services,
        vec![Op::StopContainer {
            name: format!("{}-echo-1", p.dir.name()),
            timeout: Some(Duration::from_secs(1)),
        }],
        false,
    )
    .unwrap();
    assert!(!listening(Protocol::Udp, udp_addr), "udp proxy released");
    assert_eq!(services.ports().len(), 1);

    p.down(&services);
    assert!(services.ports().is_empty());
    assert!(
        services.dns_clients().is_empty(),
        "no DNS server after down"
    );
    assert!(!p.dir.dir().join("ports.json").exists());
    p.assert_gone(
        &rec,
        &[(Protocol::Tcp, web_addr), (Protocol::Udp, udp_addr)],
    );
}

#[test]
fn a_port_in_use_fails_the_start_and_names_its_holder() {
    let mut p = Project::new("nsb");
    let services = NetServices::new(p.dir.clone()).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut web = p.record("web", 1, HTTPD);
    web.ports = vec![
        published(None, 8001, Protocol::Tcp),
        published(Some((port, port)), 8000, Protocol::Tcp),
    ];
    let name = web.name.clone();
    let err = p
        .run(
            &services,
            vec![
                p.network_op(),
                create(web),
                Op::StartContainer { name: name.clone() },
            ],
            false,
        )
        .unwrap_err();
    let expected = format!(
        "port 127.0.0.1:{port} (tcp) is already in use on the host (held by pid {} (",
        std::process::id()
    );
    assert!(err.contains(&expected), "{err}");
    assert!(err.contains("service web"), "{err}");
    assert!(
        services.ports().is_empty(),
        "the other port is released too"
    );
    let snap = observe(&p.dir).unwrap();
    assert!(
        snap.containers
            .iter()
            .all(|c| c.status() != Status::Running),
        "nothing started"
    );
    let rec = p.network_record();
    p.down(&services);
    p.assert_gone(&rec, &[]);
}

#[test]
fn a_new_supervisor_readopts_dns_and_the_same_random_port() {
    let mut p = Project::new("nsr");
    let first = NetServices::new(p.dir.clone()).unwrap();
    let mut web = p.record("web", 1, HTTPD);
    web.ports = vec![published(None, 8000, Protocol::Tcp)];
    let name = web.name.clone();
    p.run(
        &first,
        vec![p.network_op(), create(web), Op::StartContainer { name }],
        false,
    )
    .unwrap();
    let before = first.ports();
    let addr = SocketAddr::new(before[0].host_ip, before[0].host_port);
    assert_eq!(http_get(addr), "web1");
    let rec = p.network_record();
    // The supervisor dies: its sockets close, the container keeps running.
    drop(first);
    wait_until("the proxy closed", || !listening(Protocol::Tcp, addr));

    let second = NetServices::new(p.dir.clone()).unwrap();
    second.refresh();
    assert_eq!(second.ports(), before, "the same host port again");
    assert_eq!(
        second.dns_clients(),
        [format!("{}-web-1", p.dir.name())],
        "the running container's DNS server is bound again"
    );
    assert_eq!(http_get(addr), "web1");
    p.down(&second);
    p.assert_gone(&rec, &[(Protocol::Tcp, addr)]);
}
