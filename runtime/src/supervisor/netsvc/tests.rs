//! Publishing without containers or root: ports of containers that are
//! starting, on 127.0.0.1.

use super::want::tests::record;
use super::*;
use crate::network::PublishedPort;
use std::net::Ipv4Addr;
use std::sync::mpsc;

fn services() -> (tempfile::TempDir, NetServices) {
    let root = tempfile::tempdir().unwrap();
    let project = ProjectDir::new(root.path(), "p");
    let services = NetServices::new(project).unwrap().with_upstreams(vec![]);
    (root, services)
}

fn web(service: &str, host_ports: Option<(u16, u16)>) -> ContainerRecord {
    let mut r = record(service, 1, &["p_default"]);
    r.ports = vec![PublishedPort {
        host_ip: Some(Ipv4Addr::LOCALHOST.into()),
        host_ports,
        container_port: 80,
        protocol: Protocol::Tcp,
    }];
    r
}

#[test]
fn a_port_without_host_ip_listens_on_both_wildcards_when_the_host_has_ipv6() {
    let (_root, services) = services();
    let mut rec = record("web", 1, &["p_default"]);
    rec.ports = vec![PublishedPort {
        host_ip: None,
        host_ports: None,
        container_port: 80,
        protocol: Protocol::Tcp,
    }];
    services.publish(&rec).unwrap();
    let entries = services.ports();
    let ips: Vec<String> = entries.iter().map(|e| e.host_ip.to_string()).collect();
    let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    assert_eq!(
        ips,
        if ipv6 {
            vec!["0.0.0.0", "::"]
        } else {
            vec!["0.0.0.0"]
        }
    );
    assert!(entries.iter().all(|e| e.host_port == entries[0].host_port));
    services.refresh();
    assert!(services.ports().is_empty());
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_starting_containers_port_survives_other_refreshes_until_its_thread_is_done() {
    let (root, services) = services();
    let rec = web("web", None);
    let (published, published_rx) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let (ports, on_disk) = std::thread::scope(|s| {
        let (services, rec) = (&services, &rec);
        s.spawn(move || {
            let published_ok = services.publish(rec).is_ok();
            let _ = published.send(published_ok);
            // The start fails before its refresh: the thread just ends.
            let _ = go_rx.recv();
        });
        let published_ok = published_rx.recv().unwrap();
        services.refresh();
        let seen = (
            services.ports(),
            ports::read(&ProjectDir::new(root.path(), "p")),
        );
        // Let the thread end before asserting (a failed assertion in the
        // scope would wait for it forever).
        go.send(()).unwrap();
        assert!(published_ok);
        seen
    });
    assert_eq!(ports.len(), 1, "kept while starting");
    assert_ne!(ports[0].host_port, 0);
    assert_eq!(on_disk, ports);
    // The thread's locals (its liveness marker) go a moment after the
    // scope saw it finish; the supervisor refreshes every tick.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    services.refresh();
    while !services.ports().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
        services.refresh();
    }
    assert!(
        services.ports().is_empty(),
        "released once its start is over"
    );
    assert!(!root.path().join("projects/p/ports.json").exists());
}

#[test]
fn a_refresh_on_the_publishing_thread_ends_its_start() {
    let (_root, services) = services();
    services.publish(&web("web", None)).unwrap();
    assert_eq!(services.ports().len(), 1);
    // Its container did not come up: nothing is left published.
    services.refresh();
    assert!(services.ports().is_empty());
}

#[test]
fn a_port_another_service_publishes_is_refused_and_named() {
    let (_root, services) = services();
    let port = free_port();
    services.publish(&web("web", Some((port, port)))).unwrap();
    let err = services
        .publish(&web("api", Some((port, port))))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "service api: port 127.0.0.1:{port} (tcp) is already in use on the host \
             (held by service web of this project); free it or publish another port"
        )
    );
    assert_eq!(services.ports().len(), 1, "web keeps its port");
}

#[test]
fn a_range_takes_its_first_free_port_and_a_full_range_is_named() {
    let (_root, services) = services();
    // Two consecutive free ports; the test holds the first.
    let (taken, first, last) = (0..100)
        .find_map(|_| {
            let taken = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
            let first = taken.local_addr().ok()?.port();
            let last = first.checked_add(1)?;
            std::net::TcpListener::bind(("127.0.0.1", last)).ok()?;
            Some((taken, first, last))
        })
        .expect("two consecutive free ports on 127.0.0.1");
    services.publish(&web("web", Some((first, last)))).unwrap();
    assert_eq!(services.ports()[0].host_port, last);
    let err = services
        .publish(&web("api", Some((first, last))))
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "every port of 127.0.0.1:{first}-{last} (tcp) is already in use"
        )),
        "{err}"
    );
    drop(taken);
}
