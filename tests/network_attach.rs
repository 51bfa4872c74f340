//! Attachment details and failure paths: a container on two networks gets
//! eth0 and eth1, the requested MAC and address, and its default route via
//! the higher-priority network; bad requests are refused before any link
//! is made, a failed step is undone, and teardown is idempotent. Needs root.

mod container_support;
mod network_support;

use compose_runtime::network::{Attachment, NetworkError, NetworkSpec};
use network_support::*;
use std::net::Ipv4Addr;

#[test]
fn two_networks_mac_address_and_route_priority() {
    let fx = fixture("two");
    let tmp = tempfile::tempdir().unwrap();
    let nets = networks(tmp.path(), "a");
    let (one, two) = (unique("one"), unique("two"));
    let mut guard = Teardown::new(&nets);
    guard.networks = vec![one.clone(), two.clone()];
    guard.containers = vec![fx.id().to_string()];
    let mut spec_one = NetworkSpec::new(&one);
    spec_one.subnet = Some("10.89.144.0/24".parse().unwrap());
    spec_one.mtu = Some(1400);
    let mut spec_two = NetworkSpec::new(&two);
    spec_two.subnet = Some("10.89.145.0/24".parse().unwrap());
    spec_two.gateway = Some(Ipv4Addr::new(10, 89, 145, 254));
    spec_two.internal = true;
    let rec_one = nets.create(&spec_one).unwrap();
    let rec_two = nets.create(&spec_two).unwrap();
    assert_eq!(
        nets.create(&spec_one).unwrap(),
        rec_one,
        "create is idempotent"
    );

    let path = nets.create_netns(fx.id()).unwrap();
    let mut att_one = Attachment::new(&one, fx.id());
    att_one.mac_address = Some("02:42:0a:59:90:09".into());
    att_one.ipv4_address = Some(Ipv4Addr::new(10, 89, 144, 9));
    let mut att_two = Attachment::new(&two, fx.id());
    att_two.priority = 5;
    let first = nets.attach(&att_one, &path).unwrap();
    let second = nets.attach(&att_two, &path).unwrap();
    assert_eq!(
        (first.interface.as_str(), second.interface.as_str()),
        ("eth0", "eth1")
    );
    assert_eq!(first.address, Ipv4Addr::new(10, 89, 144, 9));
    assert_eq!(
        second.address,
        Ipv4Addr::new(10, 89, 145, 1),
        "the gateway is .254"
    );

    let script = "cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip route | grep default | head -1";
    let (code, out) = run_in(&fx, &path, &["sh", "-c", script]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "02:42:0a:59:90:09");
    assert_eq!(lines[1], "1400");
    assert!(
        lines[2].starts_with("default via 10.89.145.254 dev eth1"),
        "priority 5 wins: {out}"
    );

    // Detaching frees the address for the next container; twice is fine.
    nets.detach(&one, fx.id()).unwrap();
    nets.detach(&one, fx.id()).unwrap();
    let state = nets.get(&one).unwrap().unwrap();
    assert!(state.leases.is_empty(), "{state:?}");

    nets.teardown_container(fx.id()).unwrap();
    nets.teardown_container(fx.id()).unwrap();
    nets.remove(&one).unwrap();
    nets.remove(&two).unwrap();
    nets.remove(&two).unwrap();
    let names = [
        first.host_interface,
        second.host_interface,
        rec_one.bridge,
        rec_two.bridge,
    ];
    assert_nothing_left(tmp.path(), &names, nets.nft_table());
}

#[test]
fn bad_requests_are_refused_and_failed_steps_undone() {
    let fx = fixture("bad");
    let tmp = tempfile::tempdir().unwrap();
    let nets = networks(tmp.path(), "b");
    let (net, clash) = (unique("bad"), unique("clash"));
    let mut guard = Teardown::new(&nets);
    guard.networks = vec![net.clone(), clash.clone()];
    guard.containers = vec![fx.id().to_string(), "other".into()];
    let mut spec = NetworkSpec::new(&net);
    spec.subnet = Some("10.89.160.0/24".parse().unwrap());
    let rec = nets.create(&spec).unwrap();

    let mut overlapping = NetworkSpec::new(&clash);
    overlapping.subnet = Some("10.89.160.128/25".parse().unwrap());
    let err = nets.create(&overlapping).unwrap_err();
    assert!(matches!(err, NetworkError::SubnetOverlap { .. }), "{err}");
    assert!(
        !links().contains(&nets.bridge_name(&overlapping)),
        "no bridge for a refused network"
    );

    let path = nets.create_netns(fx.id()).unwrap();
    let err = nets
        .attach(&Attachment::new("no-such-network", fx.id()), &path)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("network no-such-network not found"),
        "{err}"
    );

    let mut att = Attachment::new(&net, fx.id());
    att.ipv4_address = Some(Ipv4Addr::new(10, 89, 160, 1));
    let err = nets.attach(&att, &path).unwrap_err();
    assert!(
        matches!(err, NetworkError::AddressOutsideRange { .. }),
        "the gateway is reserved: {err}"
    );
    att.ipv4_address = None;
    att.mac_address = Some("zz:00".into());
    assert!(nets
        .attach(&att, &path)
        .unwrap_err()
        .to_string()
        .contains("mac_address"));
    assert!(
        !links().contains(&nets.host_ifname(&att.network, &att.container)),
        "nothing made for refused attachments"
    );

    // The veth is made, then moving it into a namespace that is gone fails:
    // the veth is deleted again and the address not kept.
    let missing = tmp.path().join("netns/missing");
    let other = Attachment::new(&net, "other");
    assert!(nets.attach(&other, &missing).is_err());
    assert!(
        !links().contains(&nets.host_ifname(&other.network, &other.container)),
        "undone: {}",
        links()
    );
    assert!(nets.get(&net).unwrap().unwrap().leases.is_empty());

    nets.teardown_container(fx.id()).unwrap();
    nets.remove(&net).unwrap();
    assert_nothing_left(
        tmp.path(),
        &[rec.bridge, nets.host_ifname(&att.network, &att.container)],
        nets.nft_table(),
    );
}

#[test]
fn create_again_restores_what_the_kernel_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let nets = networks(tmp.path(), "c");
    let net = unique("boot");
    let mut guard = Teardown::new(&nets);
    guard.networks = vec![net.clone()];
    guard.containers = vec!["rebooted".into()];
    let mut spec = NetworkSpec::new(&net);
    spec.subnet = Some("10.89.176.0/24".parse().unwrap());
    let rec = nets.create(&spec).unwrap();
    let path = nets.create_netns("rebooted").unwrap();
    assert_eq!(nets.create_netns("rebooted").unwrap(), path, "idempotent");

    // What a reboot takes away: the bridge, the table, the netns mount.
    let run = |args: &[&str]| {
        let status = std::process::Command::new(args[0])
            .args(&args[1..])
            .status()
            .unwrap();
        assert!(status.success(), "{args:?}");
    };
    run(&["ip", "link", "del", &rec.bridge]);
    run(&["nft", "delete", "table", "ip", nets.nft_table()]);
    nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH).unwrap();

    assert_eq!(nets.create(&spec).unwrap(), rec);
    let addr = std::process::Command::new("ip")
        .args(["-o", "-4", "addr", "show", &rec.bridge])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&addr.stdout).contains("inet 10.89.176.1/24"),
        "bridge back with its gateway"
    );
    assert!(nft_tables().contains(&format!("table ip {}", nets.nft_table())));
    assert_eq!(nets.create_netns("rebooted").unwrap(), path);
    assert!(compose_runtime::network::netns::is_netns_mount(&path));

    nets.teardown_container("rebooted").unwrap();
    nets.remove(&net).unwrap();
    assert_nothing_left(tmp.path(), &[rec.bridge], nets.nft_table());
}
