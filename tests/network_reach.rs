//! Containers on one network reach each other by IP; a container on another
//! network cannot (nftables isolation); teardown leaves no bridge, veth,
//! netns mount or nft table. Needs root; talks only to addresses inside
//! the namespaces it creates.

mod container_support;
mod network_support;

use compose_runtime::network::{Attachment, NetworkSpec};
use network_support::*;

#[test]
fn same_network_reaches_by_ip_other_network_is_isolated() {
    let a = fixture("na");
    let b = fixture("nb");
    let c = fixture("nc");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let nets = networks(root, "r").with_pool("10.89.96.0/20".parse().unwrap());
    let (front, back) = (unique("front"), unique("back"));
    let mut guard = Teardown::new(&nets);
    guard.networks = vec![front.clone(), back.clone()];
    guard.containers = [&a, &b, &c].iter().map(|fx| fx.id().to_string()).collect();
    let front_rec = nets
        .create(&NetworkSpec::new(&front))
        .expect("create front");
    let back_rec = nets.create(&NetworkSpec::new(&back)).expect("create back");
    assert_ne!(front_rec.subnet, back_rec.subnet);

    let mut attached = Vec::new();
    let mut netns = Vec::new();
    for (fx, net) in [(&a, &front), (&b, &front), (&c, &back)] {
        let path = nets.create_netns(fx.id()).expect("netns");
        let att = nets
            .attach(&Attachment::new(net, fx.id()), &path)
            .expect("attach");
        assert_eq!(att.interface, "eth0");
        attached.push(att);
        netns.push(path);
    }
    let server = start_in(
        &a,
        &netns[0],
        &["nc", "-ll", "-p", "8080", "-e", "hostname"],
    );
    let target = attached[0].address.to_string();

    let script = format!("ip -o -4 addr show eth0; ip route; ping -c1 -W2 {target} >/dev/null && echo ping-ok; for i in 1 2 3 4 5; do timeout 2 nc {target} 8080 && break; sleep 0.2; done");
    let (code, out) = run_in(&b, &netns[1], &["sh", "-c", &script]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("inet {}/24", attached[1].address)),
        "{out}"
    );
    assert!(
        out.contains(&format!("default via {}", front_rec.gateway)),
        "{out}"
    );
    assert!(out.contains("ping-ok"), "{out}");
    assert!(
        out.contains(a.id()),
        "the server answers with its hostname: {out}"
    );

    let (code, out) = run_in(
        &c,
        &netns[2],
        &[
            "sh",
            "-c",
            &format!("ping -c1 -W1 {target} || echo blocked"),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("blocked"),
        "another network must not reach {target}: {out}"
    );

    server.kill(nix::sys::signal::Signal::SIGKILL).ok();
    server.wait().ok();
    a.cleanup(server);
    for fx in [&a, &b, &c] {
        nets.teardown_container(fx.id())
            .expect("teardown container");
    }
    nets.remove(&front).expect("remove front");
    nets.remove(&back).expect("remove back");
    let mut interfaces: Vec<String> = attached.iter().map(|a| a.host_interface.clone()).collect();
    interfaces.push(front_rec.bridge.clone());
    interfaces.push(back_rec.bridge.clone());
    assert_nothing_left(root, &interfaces, nets.nft_table());
    let state = std::fs::read_to_string(root.join("networks/ipam.json")).unwrap();
    assert!(!state.contains(&front) && !state.contains(&back), "{state}");
}
