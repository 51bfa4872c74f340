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
mod dnat_support;
mod network_support;

use compose_runtime::container::Container;
use compose_runtime::network::nft::ports::{self as nat, NatPort};
use compose_runtime::network::{NetworkSpec, Networks, Protocol};
use compose_runtime::project::{Op, Services};
use compose_runtime::supervisor::health::{Health, HealthCheck, HealthStatus, HealthTest};
use compose_runtime::supervisor::netsvc::NetServices;
use dnat_support::*;
use network_support::*;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

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
        interfaces.push(Networks::new(p.fx.root.path()).host_ifname(&p.network, c));
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
        interfaces.push(Networks::new(p.fx.root.path()).host_ifname(&p.network, c));
    }
    assert_nothing_left(p.fx.root.path(), &interfaces, &p.table());
}
