//! Per-consumer views from hand-made snapshots: who sees which names.

use super::super::super::want::tests::{network as want_network, observed, record};
use super::*;
use crate::container::Status;
use crate::network::dns::table::DnsTable;
use crate::network::Link;
use crate::project::ObservedContainer;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

fn network(name: &str, third: u8, leases: &[(&str, u8)]) -> (String, NetworkRecord) {
    (name.to_string(), want_network(name, third, leases))
}

fn snapshot(containers: Vec<ObservedContainer>, networks: &[&str]) -> Snapshot {
    Snapshot {
        containers,
        networks: networks.iter().map(|n| n.to_string()).collect(),
        volumes: BTreeSet::new(),
    }
}

/// What `consumer` gets for `name`.
fn resolve(views: &BTreeMap<String, View>, consumer: &str, name: &str) -> Vec<Ipv4Addr> {
    DnsTable::new(views[consumer].clone()).addresses(name)
}

#[test]
fn running_containers_answer_with_aliases_and_hostnames_and_own_upstreams() {
    let mut web = record("web", 1, &["p_default"]);
    web.networks[0].aliases = vec!["www".into()];
    web.dns.servers = vec!["192.0.2.53".into(), "not an address".into()];
    let app = record("app", 1, &["p_default"]);
    let stopped = record("db", 1, &["p_default"]);
    let mut starting = observed(record("cache", 1, &["p_default"]), Status::Created);
    starting.state.as_mut().unwrap().pid = Some(42);
    let never_started = ObservedContainer {
        state: None,
        ..observed(record("idle", 1, &["p_default"]), Status::Created)
    };
    let snap = snapshot(
        vec![
            observed(app, Status::Running),
            starting,
            never_started,
            observed(stopped, Status::Stopped),
            observed(web, Status::Running),
        ],
        &["p_default"],
    );
    let networks = BTreeMap::from([network(
        "p_default",
        0,
        &[
            ("p-web-1", 2),
            ("p-app-1", 3),
            ("p-db-1", 4),
            ("p-cache-1", 5),
            ("p-idle-1", 6),
        ],
    )]);
    let views = views(&snap, &networks, &[], &[]);
    assert_eq!(
        views.keys().collect::<Vec<_>>(),
        ["p-app-1", "p-cache-1", "p-web-1"],
        "the stopped db and the never started idle have no server"
    );
    let names: Vec<(&str, Vec<&str>)> = views["p-app-1"].networks[0]
        .entries
        .iter()
        .map(|e| {
            (
                e.container.as_str(),
                e.aliases.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("p-app-1", vec!["app1.host"]),
            ("p-cache-1", vec!["cache1.host"]),
            ("p-web-1", vec!["web1.host", "www"])
        ]
    );
    assert_eq!(
        resolve(&views, "p-app-1", "www"),
        [Ipv4Addr::new(10, 89, 0, 2)]
    );
    assert!(resolve(&views, "p-app-1", "db").is_empty());
    assert_eq!(
        views["p-web-1"].upstreams,
        ["192.0.2.53:53".parse::<std::net::SocketAddr>().unwrap()]
    );
    assert!(views["p-app-1"].upstreams.is_empty(), "the host's");
    assert!(
        Arc::ptr_eq(&views["p-app-1"].networks[0], &views["p-web-1"].networks[0]),
        "one copy of a network's names"
    );
}

#[test]
fn a_links_alias_resolves_in_its_consumer_only() {
    let mut app = record("app", 1, &["p_default"]);
    app.links = vec![Link {
        container: "p-db-1".into(),
        alias: "database".into(),
    }];
    let other = record("other", 1, &["p_default"]);
    let db = record("db", 1, &["p_default"]);
    let snap = snapshot(
        vec![
            observed(app, Status::Running),
            observed(db, Status::Running),
            observed(other, Status::Running),
        ],
        &["p_default"],
    );
    let networks = BTreeMap::from([network(
        "p_default",
        0,
        &[("p-app-1", 2), ("p-db-1", 3), ("p-other-1", 4)],
    )]);
    let views = views(&snap, &networks, &[], &[]);
    assert_eq!(
        resolve(&views, "p-app-1", "database"),
        [Ipv4Addr::new(10, 89, 0, 3)]
    );
    assert!(resolve(&views, "p-other-1", "database").is_empty());
    assert!(resolve(&views, "p-db-1", "database").is_empty());
    assert_eq!(
        resolve(&views, "p-other-1", "db"),
        [Ipv4Addr::new(10, 89, 0, 3)]
    );
}

#[test]
fn a_container_sees_the_networks_it_is_on_and_no_other() {
    // web is on front and back, db on back only, ui on front only.
    let web = record("web", 1, &["p_front", "p_back"]);
    let db = record("db", 1, &["p_back"]);
    let ui = record("ui", 1, &["p_front"]);
    let snap = snapshot(
        vec![
            observed(db, Status::Running),
            observed(ui, Status::Running),
            observed(web, Status::Running),
        ],
        &["p_back", "p_front"],
    );
    let networks = BTreeMap::from([
        network("p_front", 1, &[("p-web-1", 2), ("p-ui-1", 3)]),
        network("p_back", 2, &[("p-web-1", 2), ("p-db-1", 3)]),
    ]);
    let views = views(&snap, &networks, &[], &[]);
    assert_eq!(
        resolve(&views, "p-web-1", "db"),
        [Ipv4Addr::new(10, 89, 2, 3)]
    );
    assert_eq!(
        resolve(&views, "p-web-1", "ui"),
        [Ipv4Addr::new(10, 89, 1, 3)]
    );
    assert!(
        resolve(&views, "p-ui-1", "db").is_empty(),
        "db is on back only"
    );
    assert_eq!(
        resolve(&views, "p-ui-1", "web"),
        [Ipv4Addr::new(10, 89, 1, 2)],
        "web by its front address"
    );
    assert_eq!(
        resolve(&views, "p-db-1", "web"),
        [Ipv4Addr::new(10, 89, 2, 2)],
        "web by its back address"
    );
}

#[test]
fn starting_containers_get_a_view_and_guests_answer_on_shared_networks() {
    let web = record("web", 1, &["p_default"]);
    let of_q = |mut r: ContainerRecord| {
        r.name = r.name.replacen("p-", "q-", 1);
        r.project = "q".into();
        for att in &mut r.networks {
            att.container = r.name.clone();
        }
        r
    };
    let guest = of_q(record("client", 1, &["q_private", "p_default"]));
    let hidden = of_q(record("db", 1, &["q_private"]));
    let api = record("api", 1, &["p_default"]);
    let snap = snapshot(vec![observed(web, Status::Running)], &["p_default"]);
    let networks = BTreeMap::from([
        network(
            "p_default",
            1,
            &[("p-web-1", 2), ("q-client-1", 3), ("p-api-1", 4)],
        ),
        network("q_private", 2, &[("q-client-1", 2), ("q-db-1", 3)]),
    ]);
    let views = views(&snap, &networks, &[&api], &[&guest, &hidden]);
    assert_eq!(
        views.keys().collect::<Vec<_>>(),
        ["p-api-1", "p-web-1"],
        "guests are served by their own project"
    );
    assert_eq!(
        resolve(&views, "p-api-1", "client"),
        [Ipv4Addr::new(10, 89, 1, 3)]
    );
    assert_eq!(
        resolve(&views, "p-web-1", "api"),
        [Ipv4Addr::new(10, 89, 1, 4)]
    );
    assert!(resolve(&views, "p-web-1", "q-db-1").is_empty());
}
