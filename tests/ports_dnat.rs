//! Published ports on the kernel fast path (DNAT), driven through the
//! project executor and the supervisor's network services as the
//! supervisor drives them: connections are balanced per connection over
//! three replicas (counted per replica), a UDP datagram makes the round
//! trip, only healthy replicas take connections, and a client in a
//! test-made namespace (joined to the host by a veth) is seen by the
//! container with its own address, where a client on 127.0.0.1 is seen as
//! the gateway; with no ready replica the proxy answers. The rules go with
//! the supervisor and come back with the next one, stale rules of a dead
//! supervisor are replaced, and after `down` no rule, table, link, netns or
//! socket is left. Needs root.

mod container_support;
mod network_support;

use compose_runtime::container::{Container, ContainerSpec, InitProgram};
use compose_runtime::network::nft::ports::{self as nat, NatPort, PortChains};
use compose_runtime::network::{netns, nft, Attachment, NetworkSpec, Networks, Protocol};
use compose_runtime::network::{NetworkRecord, PublishedPort};
use compose_runtime::project::ops::CreateRequest;
use compose_runtime::project::record::DnsSettings;
use compose_runtime::project::{execute, ContainerRecord, Env, OnFailure, Op, ProjectDir};
use compose_runtime::project::{Services, Step};
use compose_runtime::supervisor::health::{Health, HealthCheck, HealthStatus, HealthTest};
use compose_runtime::supervisor::netsvc::NetServices;
use container_support::{init_program, Fixture};
use network_support::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The host's side of the client namespace's veth (a /30 of our own pool
/// that no test network takes: IPAM skips subnets under a host route).
const HOST_SIDE: Ipv4Addr = Ipv4Addr::new(10, 89, 251, 1);
const CLIENT_SIDE: Ipv4Addr = Ipv4Addr::new(10, 89, 251, 2);

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
        let name = unique(tag);
        Project {
            dir: ProjectDir::new(fx.root.path(), &name),
            network: format!("{name}_default"),
            fx,
            init: init_program(),
            containers: Vec::new(),
        }
    }

    fn run(&self, services: &dyn Services, ops: Vec<Op>) {
        let steps: Vec<Step> = ops
            .into_iter()
            .enumerate()
            .map(|(i, op)| Step {
                op,
                after: if i == 0 { vec![] } else { vec![i - 1] },
            })
            .collect();
        let env = Env {
            init: &self.init,
            services,
        };
        execute(&self.dir, &steps, &env, OnFailure::Stop, &|_, _| {}).expect("the steps run");
    }

    /// Replica `n` of `service` idling on the project network; the test
    /// serves inside its namespace.
    fn record(&mut self, service: &str, n: u32, ports: Vec<PublishedPort>) -> ContainerRecord {
        let name = format!("{}-{service}-{n}", self.dir.name());
        self.containers.push(name.clone());
        let args = ["sh", "-c", "exec sleep 1000"].map(String::from).to_vec();
        let spec = ContainerSpec::new(&name, vec![self.fx.rootfs.clone()], args);
        ContainerRecord {
            name: name.clone(),
            project: self.dir.name().to_string(),
            service: service.to_string(),
            number: n,
            id: format!("{n:064x}"),
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
            ports,
            exposed: vec![],
            links: vec![],
            hooks: Default::default(),
            healthcheck: None,
            spec,
        }
    }

    fn network_record(&self) -> NetworkRecord {
        Networks::new(self.fx.root.path())
            .get(&self.network)
            .unwrap()
            .expect("the network exists")
    }

    fn netns(&self, container: &str) -> PathBuf {
        Networks::new(self.fx.root.path()).netns_path(container)
    }

    fn table(&self) -> String {
        nft::table_for_root(self.fx.root.path())
    }

    fn chains(&self) -> PortChains {
        PortChains::new(&self.table(), self.dir.name())
    }

    /// The project's rules as `nft` lists them (empty: no chain).
    fn rules(&self) -> String {
        let out = Command::new("nft")
            .args(["list", "table", "ip", &self.table()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let chains = self.chains();
        let mut ours = String::new();
        let mut inside = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with("chain ") {
                inside = line.contains(&chains.prerouting) || line.contains(&chains.output);
            }
            if inside {
                ours.push_str(line);
                ours.push('\n');
            }
        }
        ours
    }

    /// Remove every container and the network, then refresh.
    fn down(&self, services: &dyn Services) {
        let mut steps: Vec<Step> = self
            .containers
            .iter()
            .filter(|c| self.dir.container_dir(c).exists())
            .map(|name| Step {
                op: Op::RemoveContainer {
                    name: name.clone(),
                    volumes: false,
                },
                after: vec![],
            })
            .collect();
        let after = (0..steps.len()).collect();
        steps.push(Step {
            op: Op::RemoveNetwork {
                name: self.network.clone(),
            },
            after,
        });
        let env = Env {
            init: &self.init,
            services,
        };
        let _ = execute(&self.dir, &steps, &env, OnFailure::Continue, &|_, _| {});
        services.refresh();
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        self.down(&compose_runtime::project::NoServices);
    }
}

fn create(record: ContainerRecord) -> Op {
    Op::CreateContainer {
        request: Box::new(CreateRequest {
            record,
            volumes: vec![],
            host_dirs: vec![],
        }),
    }
}

fn port(host_ip: Ipv4Addr, container_port: u16, protocol: Protocol) -> PublishedPort {
    PublishedPort {
        host_ip: Some(host_ip.into()),
        host_ports: None,
        container_port,
        protocol,
    }
}

/// Servers the test runs inside a container's namespace: TCP on 8000 and
/// UDP on 9000, each answering `<tag> <client address as seen>`. Their
/// sockets keep the namespace alive: drop before checking what is left.
struct Served {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn serve_in(netns: &Path, tag: &str) -> Served {
    let (tcp, udp) = netns::on_thread(Some(netns), "bind", || {
        Ok((
            TcpListener::bind("0.0.0.0:8000").expect("tcp in the container's netns"),
            UdpSocket::bind("0.0.0.0:9000").expect("udp in the container's netns"),
        ))
    })
    .unwrap();
    tcp.set_nonblocking(true).unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (flag, tag_tcp) = (stop.clone(), tag.to_string());
    let tcp_thread = std::thread::spawn(move || {
        while !flag.load(Ordering::SeqCst) {
            match tcp.accept() {
                Ok((mut s, peer)) => {
                    let _ = s.write_all(format!("{tag_tcp} {}", peer.ip()).as_bytes());
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    let (flag, tag_udp) = (stop.clone(), tag.to_string());
    let udp_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !flag.load(Ordering::SeqCst) {
            if let Ok((_, from)) = udp.recv_from(&mut buf) {
                let _ = udp.send_to(format!("{tag_udp} {}", from.ip()).as_bytes(), from);
            }
        }
    });
    Served {
        stop,
        threads: vec![tcp_thread, udp_thread],
    }
}

/// One TCP connection to `addr`: the server's `<tag> <client>`.
fn ask(addr: SocketAddr) -> Option<(String, IpAddr)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (tag, client) = text.split_once(' ')?;
    Some((tag.to_string(), client.parse().ok()?))
}

/// Answers of `n` connections, retried while the servers come up.
fn ask_n(addr: SocketAddr, n: usize) -> Vec<(String, IpAddr)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while out.len() < n {
        match ask(addr) {
            Some(answer) => out.push(answer),
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            None => panic!("nothing answered through {addr}"),
        }
    }
    out
}

fn count(answers: &[(String, IpAddr)]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (tag, _) in answers {
        *counts.entry(tag.clone()).or_default() += 1;
    }
    counts
}

fn clients(answers: &[(String, IpAddr)]) -> Vec<IpAddr> {
    let mut seen: Vec<IpAddr> = answers.iter().map(|(_, c)| *c).collect();
    seen.sort();
    seen.dedup();
    seen
}

/// A test-made namespace joined to the host by a veth: HOST_SIDE/30 on the
/// host, CLIENT_SIDE/30 inside (a runtime netns under the test's root).
struct Client<'a> {
    nets: &'a Networks,
    netns: String,
    path: PathBuf,
    host_if: String,
}

fn ip(netns: Option<&Path>, args: &[&str]) {
    let mut cmd = Command::new("nsenter");
    if let Some(path) = netns {
        cmd.arg(format!("--net={}", path.display()));
    }
    let out = cmd.arg("ip").args(args).output().expect("nsenter ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl<'a> Client<'a> {
    fn new(nets: &'a Networks) -> Client<'a> {
        let netns = unique("cmpt-cli");
        let path = nets.create_netns(&netns).expect("client netns");
        let client = Client {
            nets,
            netns,
            path,
            host_if: unique("xch"),
        };
        let peer = unique("xcp");
        let inside = Some(client.path.as_path());
        // Both ends made inside, the host end then moved to PID 1's netns.
        ip(
            inside,
            &[
                "link",
                "add",
                &peer,
                "type",
                "veth",
                "peer",
                "name",
                &client.host_if,
                "netns",
                "1",
            ],
        );
        ip(
            None,
            &["addr", "add", "10.89.251.1/30", "dev", &client.host_if],
        );
        ip(None, &["link", "set", &client.host_if, "up"]);
        ip(inside, &["addr", "add", "10.89.251.2/30", "dev", &peer]);
        ip(inside, &["link", "set", &peer, "up"]);
        // The way back to the project's subnet goes through the host.
        ip(inside, &["route", "add", "default", "via", "10.89.251.1"]);
        client
    }

    /// `ask_n` from inside the namespace.
    fn ask_n(&self, addr: SocketAddr, n: usize) -> Vec<(String, IpAddr)> {
        netns::on_thread(Some(&self.path), "client", || Ok(ask_n(addr, n))).unwrap()
    }
}

impl Drop for Client<'_> {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .status();
        let _ = self.nets.remove_netns(&self.netns);
    }
}

/// Mark each replica's current run healthy or not, as the supervisor's
/// checker writes it.
fn set_health(p: &Project, of: &[(&str, HealthStatus)]) {
    for (name, status) in of {
        let dir = p.dir.container_dir(name);
        let state = Container::load(&dir).unwrap().state().unwrap();
        let mut health = Health::starting(state.started_at.as_deref().unwrap());
        health.status = *status;
        health.write(&dir).unwrap();
    }
}

#[test]
fn replicas_take_connections_from_the_kernel_and_see_their_clients() {
    let mut p = Project::new("dnt");
    let services = NetServices::new(p.dir.clone()).unwrap();
    let nets = Networks::new(p.fx.root.path());
    let client = Client::new(&nets);
    let ports = vec![
        port(Ipv4Addr::LOCALHOST, 8000, Protocol::Tcp),
        port(HOST_SIDE, 8000, Protocol::Tcp),
        port(Ipv4Addr::LOCALHOST, 9000, Protocol::Udp),
    ];
    let mut ops = vec![Op::CreateNetwork {
        spec: Box::new(NetworkSpec::new(&p.network)),
        external: false,
    }];
    let mut names = Vec::new();
    for n in 1..=3 {
        let mut web = p.record("web", n, ports.clone());
        web.healthcheck = Some(HealthCheck {
            test: HealthTest::Cmd(vec!["true".into()]),
            interval: Duration::from_secs(3600),
            timeout: Duration::from_secs(30),
            retries: 3,
            start_period: Duration::ZERO,
            start_interval: Duration::from_secs(5),
        });
        names.push(web.name.clone());
        ops.push(create(web));
        ops.push(Op::StartContainer {
            name: names[n as usize - 1].clone(),
        });
    }
    p.run(&services, ops);
    let rec = p.network_record();
    let served: Vec<Served> = names
        .iter()
        .enumerate()
        .map(|(i, name)| serve_in(&p.netns(name), &format!("web{}", i + 1)))
        .collect();
    let bound: BTreeMap<(IpAddr, Protocol), SocketAddr> = services
        .ports()
        .iter()
        .map(|e| {
            (
                (e.host_ip, e.protocol),
                SocketAddr::new(e.host_ip, e.host_port),
            )
        })
        .collect();
    let local = bound[&(Ipv4Addr::LOCALHOST.into(), Protocol::Tcp)];
    let outside = bound[&(HOST_SIDE.into(), Protocol::Tcp)];
    let udp = bound[&(Ipv4Addr::LOCALHOST.into(), Protocol::Udp)];

    // Healthchecks still starting: nothing ready, the proxy serves (from
    // the host: the containers see the gateway, whoever the client is).
    assert_eq!(p.rules(), "", "no rule before a replica is ready");
    let proxied = client.ask_n(outside, 3);
    assert_eq!(clients(&proxied), [IpAddr::from(rec.gateway)]);

    let all_healthy: Vec<(&str, HealthStatus)> = names
        .iter()
        .map(|n| (n.as_str(), HealthStatus::Healthy))
        .collect();
    set_health(&p, &all_healthy);
    services.refresh();
    let rules = p.rules();
    for replica in rec.leases.values() {
        assert!(rules.contains(&format!("{replica} . 8000")), "{rules}");
    }
    assert!(rules.contains("numgen inc mod 3"), "{rules}");

    // Nine connections from 127.0.0.1: three per replica, each one seen
    // coming from the gateway (masquerade of the loopback source).
    let answers = ask_n(local, 9);
    assert_eq!(
        count(&answers),
        BTreeMap::from([("web1".into(), 3), ("web2".into(), 3), ("web3".into(), 3)]),
        "{answers:?}"
    );
    assert_eq!(clients(&answers), [IpAddr::from(rec.gateway)]);
    // From the client's namespace: balanced, and its own address seen.
    let answers = client.ask_n(outside, 6);
    assert_eq!(count(&answers).len(), 3, "{answers:?}");
    assert_eq!(clients(&answers), [IpAddr::from(CLIENT_SIDE)]);

    // UDP makes the round trip through the kernel too.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut echoed = None;
    for _ in 0..20 {
        sock.send_to(b"ping", udp).unwrap();
        let mut buf = [0u8; 64];
        if let Ok(n) = sock.recv(&mut buf) {
            echoed = Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            break;
        }
    }
    let echoed = echoed.expect("udp round trip");
    assert!(
        echoed.starts_with("web") && echoed.ends_with(&format!(" {}", rec.gateway)),
        "{echoed}"
    );

    // web2 turns unhealthy: only web1 and web3 take connections.
    set_health(
        &p,
        &[
            (&names[0], HealthStatus::Healthy),
            (&names[1], HealthStatus::Unhealthy),
            (&names[2], HealthStatus::Healthy),
        ],
    );
    services.refresh();
    assert!(p.rules().contains("numgen inc mod 2"), "{}", p.rules());
    let answers = client.ask_n(outside, 6);
    assert_eq!(
        count(&answers),
        BTreeMap::from([("web1".into(), 3), ("web3".into(), 3)]),
        "{answers:?}"
    );
    assert_eq!(clients(&answers), [IpAddr::from(CLIENT_SIDE)]);

    // The supervisor exits: its rules go, the sockets close, the
    // containers keep running.
    drop(services);
    assert_eq!(p.rules(), "", "rules gone with the supervisor");
    // A supervisor that died left stale rules (and ports.json): its
    // successor replaces them.
    let stale = NatPort {
        host_ip: Some(Ipv4Addr::LOCALHOST),
        host_port: local.port(),
        protocol: Protocol::Tcp,
        backends: vec!["10.89.255.254:1".parse().unwrap()],
        comment: "stale".into(),
    };
    nat::apply(&p.chains(), &[stale]).unwrap();
    assert!(p.rules().contains("stale"));
    let second = NetServices::new(p.dir.clone()).unwrap();
    second.refresh();
    let rules = p.rules();
    assert!(
        !rules.contains("stale") && rules.contains("mod 2"),
        "{rules}"
    );
    assert_eq!(count(&ask_n(local, 4)).len(), 2);

    drop(served);
    drop(client);
    p.down(&second);
    assert!(second.ports().is_empty());
    assert_eq!(p.rules(), "");
    drop(second);
    let mut interfaces = vec![rec.bridge.clone()];
    for c in &p.containers {
        interfaces.push(Attachment::new(&p.network, c).host_ifname());
    }
    assert_nothing_left(p.fx.root.path(), &interfaces, &p.table());
    for addr in [local, outside] {
        assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
    }
}

/// Host ports `first..=first + 4` with the first one free now.
fn free_range() -> (u16, u16) {
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    let first = probe.local_addr().unwrap().port().min(u16::MAX - 4);
    (first, first + 4)
}

#[test]
fn stopping_replicas_shrinks_the_map_and_the_last_one_takes_the_rules_away() {
    let mut p = Project::new("dns0");
    let services = NetServices::new(p.dir.clone()).unwrap();
    let mut ranged = port(Ipv4Addr::LOCALHOST, 8000, Protocol::Tcp);
    ranged.host_ports = Some(free_range());
    let mut ops = vec![Op::CreateNetwork {
        spec: Box::new(NetworkSpec::new(&p.network)),
        external: false,
    }];
    let mut names = Vec::new();
    for n in 1..=2 {
        let api = p.record("api", n, vec![ranged.clone()]);
        names.push(api.name.clone());
        ops.push(create(api));
        ops.push(Op::StartContainer {
            name: names[n as usize - 1].clone(),
        });
    }
    p.run(&services, ops);
    let rec = p.network_record();
    let serve_all = |p: &Project| -> Vec<Served> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| serve_in(&p.netns(name), &format!("api{}", i + 1)))
            .collect()
    };
    let mut served = serve_all(&p);
    let entry = services.ports()[0].clone();
    let (first, last) = ranged.host_ports.unwrap();
    assert!((first..=last).contains(&entry.host_port), "{entry:?}");
    let addr = SocketAddr::new(entry.host_ip, entry.host_port);
    assert!(p.rules().contains("mod 2"), "{}", p.rules());
    assert_eq!(
        count(&ask_n(addr, 4)),
        BTreeMap::from([("api1".into(), 2), ("api2".into(), 2)])
    );

    let stop = |name: &str| Op::StopContainer {
        name: name.to_string(),
        timeout: Some(Duration::from_secs(1)),
    };
    drop(served.pop());
    p.run(&services, vec![stop(&names[1])]);
    assert!(p.rules().contains("mod 1"), "{}", p.rules());
    assert_eq!(count(&ask_n(addr, 3)), BTreeMap::from([("api1".into(), 3)]));

    // Scaled to zero: no rule, and the port is free again.
    drop(served);
    p.run(&services, vec![stop(&names[0])]);
    assert_eq!(p.rules(), "", "no rule without a replica");
    assert!(services.ports().is_empty());
    drop(TcpListener::bind(addr).expect("the port is free again"));

    let starts = names
        .iter()
        .map(|n| Op::StartContainer { name: n.clone() })
        .collect();
    p.run(&services, starts);
    let served = serve_all(&p);
    assert!(p.rules().contains("mod 2"), "{}", p.rules());
    let entry = services.ports()[0].clone();
    let addr = SocketAddr::new(entry.host_ip, entry.host_port);
    assert_eq!(count(&ask_n(addr, 4)).len(), 2);

    drop(served);
    p.down(&services);
    assert_eq!(p.rules(), "");
    drop(services);
    let mut interfaces = vec![rec.bridge.clone()];
    for c in &p.containers {
        interfaces.push(Attachment::new(&p.network, c).host_ifname());
    }
    assert_nothing_left(p.fx.root.path(), &interfaces, &p.table());
}
