//! The wanted state from hand-made snapshots: ports and their backends,
//! and `dns:` servers as upstreams.

use super::*;
use crate::container::{ContainerSpec, State};
use crate::network::{Attachment, NetworkSpec, Protocol};
use crate::project::record::DnsSettings;
use std::collections::BTreeSet;

/// A record of replica `n` of `service` on `networks` (no ports).
/// Also the fixture of other modules' tests (DNS views, observe).
pub(crate) fn record(service: &str, n: u32, networks: &[&str]) -> ContainerRecord {
    let name = format!("p-{service}-{n}");
    let mut spec = ContainerSpec::new(&name, vec![], vec!["true".into()]);
    spec.hostname = format!("{service}{n}.host");
    ContainerRecord {
        name: name.clone(),
        project: "p".into(),
        service: service.into(),
        number: n,
        id: "0".repeat(64),
        image: "busybox".into(),
        image_id: String::new(),
        config_hash: String::new(),
        config: serde_json::Value::Null,
        created_at: String::new(),
        stop_signal: "SIGTERM".into(),
        stop_grace_period_ms: 0,
        volumes: vec![],
        restart: Default::default(),
        networks: networks.iter().map(|n| Attachment::new(n, &name)).collect(),
        dns: DnsSettings::default(),
        ports: vec![],
        exposed: vec![],
        links: vec![],
        hooks: Default::default(),
        healthcheck: None,
        spec,
    }
}

pub(crate) fn observed(record: ContainerRecord, status: Status) -> ObservedContainer {
    let mut state = State::created(&record.name);
    state.status = status;
    ObservedContainer {
        record,
        state: Some(state),
        dir: "/nonexistent".into(),
    }
}

pub(crate) fn network(name: &str, third: u8, leases: &[(&str, u8)]) -> NetworkRecord {
    NetworkRecord {
        spec: NetworkSpec::new(name),
        subnet: format!("10.89.{third}.0/24").parse().unwrap(),
        gateway: Ipv4Addr::new(10, 89, third, 1),
        bridge: format!("cb-{name}"),
        leases: leases
            .iter()
            .map(|(c, last)| (c.to_string(), Ipv4Addr::new(10, 89, third, *last)))
            .collect(),
        ipv6: None,
    }
}

fn http(host: Option<(u16, u16)>) -> PublishedPort {
    PublishedPort {
        host_ip: None,
        host_ports: host,
        container_port: 80,
        protocol: Protocol::Tcp,
    }
}

#[test]
fn ports_balance_over_up_replicas_on_their_first_network_and_starting_ones_hold_theirs() {
    let replicas: Vec<ContainerRecord> = (1..=3)
        .map(|n| {
            let mut r = record("web", n, &["p_front", "p_back"]);
            r.ports = vec![http(Some((8080, 8080)))];
            r
        })
        .collect();
    let mut api = record("api", 1, &["p_back"]);
    api.ports = vec![http(None)];
    let mut host = record("host", 1, &[]);
    host.ports = vec![http(Some((9090, 9090)))];
    let snap = Snapshot {
        containers: vec![
            observed(replicas[0].clone(), Status::Running),
            observed(replicas[1].clone(), Status::Paused),
            observed(replicas[2].clone(), Status::Stopped),
            observed(host, Status::Running),
        ],
        networks: BTreeSet::from(["p_back".into(), "p_front".into()]),
        volumes: BTreeSet::new(),
    };
    let networks = BTreeMap::from([
        (
            "p_front".to_string(),
            network("p_front", 1, &[("p-web-1", 2), ("p-web-2", 3)]),
        ),
        (
            "p_back".to_string(),
            network("p_back", 2, &[("p-web-1", 2), ("p-web-2", 3)]),
        ),
    ]);
    let want = wanted(&snap, &networks, &[&api], &|_| None);
    let web = PortKey {
        service: "web".into(),
        port: http(Some((8080, 8080))),
    };
    let api_key = PortKey {
        service: "api".into(),
        port: http(None),
    };
    assert_eq!(
        want.ports,
        BTreeMap::from([
            (api_key, vec![]),
            (
                web,
                vec![
                    "10.89.1.2:80".parse().unwrap(),
                    "10.89.1.3:80".parse().unwrap()
                ]
            ),
        ]),
        "no port for the container in the host's namespace"
    );
}

#[test]
fn dns_servers_parse_with_or_without_a_port() {
    let texts = [
        "1.1.1.1",
        "[2001:db8::1]:5353",
        "10.0.0.1:53",
        "dns.example",
    ];
    let parsed = servers(&texts.map(String::from));
    assert_eq!(
        parsed,
        [
            "1.1.1.1:53".parse::<SocketAddr>().unwrap(),
            "[2001:db8::1]:5353".parse().unwrap(),
            "10.0.0.1:53".parse().unwrap()
        ]
    );
}

#[test]
fn healthy_replicas_take_the_connections_when_there_are_some() {
    let replica = |n: u32| {
        let mut r = record("web", n, &["p_default"]);
        r.ports = vec![http(Some((8080, 8080)))];
        observed(r, Status::Running)
    };
    let snap = Snapshot {
        containers: (1..=3).map(replica).collect(),
        networks: BTreeSet::from(["p_default".to_string()]),
        volumes: BTreeSet::new(),
    };
    let networks = BTreeMap::from([(
        "p_default".to_string(),
        network(
            "p_default",
            0,
            &[("p-web-1", 2), ("p-web-2", 3), ("p-web-3", 4)],
        ),
    )]);
    let backends = |health: &dyn Fn(&ObservedContainer) -> Option<HealthStatus>| {
        let want = wanted(&snap, &networks, &[], health);
        let (_, addrs) = want.ports.into_iter().next().unwrap();
        addrs.iter().map(|a| a.to_string()).collect::<Vec<String>>()
    };
    let by_name = |pairs: [(&'static str, HealthStatus); 3]| {
        move |c: &ObservedContainer| {
            pairs
                .iter()
                .find(|(n, _)| *n == c.record.name)
                .map(|(_, h)| *h)
        }
    };
    use HealthStatus::*;
    assert_eq!(
        backends(&by_name([
            ("p-web-1", Healthy),
            ("p-web-2", Starting),
            ("p-web-3", Unhealthy)
        ])),
        ["10.89.0.2:80"]
    );
    assert_eq!(
        backends(&by_name([
            ("p-web-1", Unhealthy),
            ("p-web-2", Starting),
            ("p-web-3", Starting)
        ])),
        ["10.89.0.3:80", "10.89.0.4:80"],
        "no healthy one yet: every replica not known to be unhealthy"
    );
    assert_eq!(
        backends(&by_name([
            ("p-web-1", Unhealthy),
            ("p-web-2", Unhealthy),
            ("p-web-3", Unhealthy)
        ])),
        ["10.89.0.2:80", "10.89.0.3:80", "10.89.0.4:80"],
        "all unhealthy: still somewhere to go"
    );
    assert_eq!(backends(&|_| None).len(), 3, "no healthchecks");
}

#[test]
fn the_kernel_forwards_to_ready_replicas_only_and_never_into_an_internal_network() {
    let replica = |service: &str, n: u32, net: &str| {
        let mut r = record(service, n, &[net]);
        r.ports = vec![http(None)];
        observed(r, Status::Running)
    };
    let snap = Snapshot {
        containers: vec![
            replica("web", 1, "p_default"),
            replica("web", 2, "p_default"),
            replica("web", 3, "p_default"),
            replica("vault", 1, "p_inside"),
        ],
        networks: BTreeSet::from(["p_default".to_string(), "p_inside".to_string()]),
        volumes: BTreeSet::new(),
    };
    let mut inside = network("p_inside", 1, &[("p-vault-1", 2)]);
    inside.spec.internal = true;
    let networks = BTreeMap::from([
        (
            "p_default".to_string(),
            network(
                "p_default",
                0,
                &[("p-web-1", 2), ("p-web-2", 3), ("p-web-3", 4)],
            ),
        ),
        ("p_inside".to_string(), inside),
    ]);
    let fast = |health: &dyn Fn(&ObservedContainer) -> Option<HealthStatus>| {
        let want = wanted(&snap, &networks, &[], health);
        assert_eq!(want.ports.len(), 2, "both ports keep their proxy");
        want.fast
            .into_iter()
            .map(|(k, addrs)| (k.service, addrs.iter().map(|a| a.to_string()).collect()))
            .collect::<BTreeMap<String, Vec<String>>>()
    };
    let web = |addrs: &[&str]| {
        BTreeMap::from([(
            "web".to_string(),
            addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        )])
    };
    assert_eq!(
        fast(&|_| None),
        web(&["10.89.0.2:80", "10.89.0.3:80", "10.89.0.4:80"]),
        "no healthchecks: every replica; the internal network's none"
    );
    use HealthStatus::*;
    let health = |of: [HealthStatus; 3]| {
        move |c: &ObservedContainer| match c.record.name.as_str() {
            "p-web-1" => Some(of[0]),
            "p-web-2" => Some(of[1]),
            "p-web-3" => Some(of[2]),
            _ => None,
        }
    };
    assert_eq!(
        fast(&health([Healthy, Unhealthy, Healthy])),
        web(&["10.89.0.2:80", "10.89.0.4:80"])
    );
    assert_eq!(
        fast(&health([Starting, Unhealthy, Starting])),
        BTreeMap::new(),
        "none ready: the proxy tries the starting ones"
    );
    assert_eq!(fast(&health([Unhealthy; 3])), BTreeMap::new());
}
