//! The fixtures of tests/ports_dnat.rs: a project driven through the
//! executor and the supervisor's network services, servers the test runs
//! inside a container's namespace (answering who they are and whom they
//! see), and a client namespace joined to the host by a veth.
#![allow(dead_code)]

use crate::container_support::{init_program, Fixture};
use crate::network_support::*;
use compose_runtime::container::{ContainerSpec, InitProgram};
use compose_runtime::network::nft::ports::PortChains;
use compose_runtime::network::{netns, nft, Attachment, Networks, Protocol};
use compose_runtime::network::{NetworkRecord, PublishedPort};
use compose_runtime::project::ops::CreateRequest;
use compose_runtime::project::record::DnsSettings;
use compose_runtime::project::{execute, ContainerRecord, Env, OnFailure, Op, ProjectDir};
use compose_runtime::project::{Services, Step};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The host's side of the client namespace's veth (a /30 of our own pool
/// that no test network takes: IPAM skips subnets under a host route).
pub const HOST_SIDE: Ipv4Addr = Ipv4Addr::new(10, 89, 251, 1);
pub const CLIENT_SIDE: Ipv4Addr = Ipv4Addr::new(10, 89, 251, 2);

pub struct Project {
    pub fx: Fixture,
    pub dir: ProjectDir,
    pub network: String,
    init: InitProgram,
    pub containers: Vec<String>,
}

impl Project {
    pub fn new(tag: &str) -> Project {
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

    pub fn run(&self, services: &dyn Services, ops: Vec<Op>) {
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
    pub fn record(&mut self, service: &str, n: u32, ports: Vec<PublishedPort>) -> ContainerRecord {
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

    pub fn network_record(&self) -> NetworkRecord {
        Networks::new(self.fx.root.path())
            .get(&self.network)
            .unwrap()
            .expect("the network exists")
    }

    pub fn netns(&self, container: &str) -> PathBuf {
        Networks::new(self.fx.root.path()).netns_path(container)
    }

    pub fn table(&self) -> String {
        nft::table_for_root(self.fx.root.path())
    }

    pub fn chains(&self) -> PortChains {
        PortChains::new(&self.table(), self.dir.name())
    }

    /// The project's rules as `nft` lists them (empty: no chain).
    pub fn rules(&self) -> String {
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
    pub fn down(&self, services: &dyn Services) {
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

pub fn create(record: ContainerRecord) -> Op {
    Op::CreateContainer {
        request: Box::new(CreateRequest {
            record,
            volumes: vec![],
            host_dirs: vec![],
        }),
    }
}

pub fn port(host_ip: Ipv4Addr, container_port: u16, protocol: Protocol) -> PublishedPort {
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
pub struct Served {
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

pub fn serve_in(netns: &Path, tag: &str) -> Served {
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
pub fn ask(addr: SocketAddr) -> Option<(String, IpAddr)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (tag, client) = text.split_once(' ')?;
    Some((tag.to_string(), client.parse().ok()?))
}

/// Answers of `n` connections, retried while the servers come up.
pub fn ask_n(addr: SocketAddr, n: usize) -> Vec<(String, IpAddr)> {
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

/// A test-made namespace joined to the host by a veth: HOST_SIDE/30 on the
/// host, CLIENT_SIDE/30 inside (a runtime netns under the test's root).
pub struct Client<'a> {
    nets: &'a Networks,
    netns: String,
    path: PathBuf,
    host_if: String,
}

pub fn ip(netns: Option<&Path>, args: &[&str]) {
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
    pub fn new(nets: &'a Networks) -> Client<'a> {
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
    pub fn ask_n(&self, addr: SocketAddr, n: usize) -> Vec<(String, IpAddr)> {
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
