//! A published port: the host reaches containers through the proxy on
//! 127.0.0.1, round-robin across two backends; after the proxy is dropped
//! and the network removed nothing listens and nothing is left. Needs root.

mod container_support;
mod network_support;

use compose_runtime::network::proxy::{Backends, PortProxy};
use compose_runtime::network::{Attachment, NetworkSpec};
use network_support::*;
use std::net::SocketAddr;
use tokio::io::AsyncReadExt;

async fn fetch(addr: SocketAddr) -> String {
    for _ in 0..50 {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await {
            let mut text = String::new();
            if stream.read_to_string(&mut text).await.is_ok() && !text.is_empty() {
                return text.trim().to_string();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("nothing answered through {addr}");
}

#[test]
fn published_port_round_robins_across_replicas() {
    let a = fixture("pa");
    let b = fixture("pb");
    let tmp = tempfile::tempdir().unwrap();
    let nets = networks(tmp.path(), "p").with_pool("10.89.112.0/20".parse().unwrap());
    let net = unique("web");
    let mut guard = Teardown::new(&nets);
    guard.networks = vec![net.clone()];
    guard.containers = vec![a.id().to_string(), b.id().to_string()];
    let rec = nets.create(&NetworkSpec::new(&net)).expect("create");
    let mut servers = Vec::new();
    let mut backends = Vec::new();
    let mut interfaces = vec![rec.bridge.clone()];
    for fx in [&a, &b] {
        let path = nets.create_netns(fx.id()).unwrap();
        let att = nets.attach(&Attachment::new(&net, fx.id()), &path).unwrap();
        interfaces.push(att.host_interface.clone());
        backends.push(SocketAddr::new(att.address.into(), 8080));
        servers.push(start_in(
            fx,
            &path,
            &["nc", "-ll", "-p", "8080", "-e", "hostname"],
        ));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let port = rt.block_on(async {
        let backends = Backends::new(backends.clone());
        let proxy = PortProxy::tcp("127.0.0.1:0".parse().unwrap(), backends.clone())
            .await
            .unwrap();
        // Wait until both servers listen, directly.
        for addr in backends.get() {
            fetch(addr).await;
        }
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(fetch(proxy.local_addr()).await);
        }
        let first = seen[0].clone();
        let other = if first == a.id() { b.id() } else { a.id() };
        assert_eq!(seen, [first.as_str(), other, first.as_str(), other]);
        // One backend leaves: every connection goes to the other.
        backends.set(vec![backends.get()[1]]);
        assert_eq!(fetch(proxy.local_addr()).await, b.id());
        let busy = PortProxy::tcp(proxy.local_addr(), Backends::default())
            .await
            .unwrap_err();
        assert!(
            busy.to_string().contains(&format!(
                "port {} (tcp) is already in use",
                proxy.local_addr()
            )),
            "{busy}"
        );
        proxy.local_addr().port()
    });
    drop(rt);
    let listening = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let hex_port = format!("0100007F:{port:04X} ");
    assert!(
        !listening
            .lines()
            .any(|l| l.contains(&hex_port) && l.contains(" 0A ")),
        "still listening on {port}"
    );
    for (fx, server) in [&a, &b].into_iter().zip(servers) {
        server.kill(nix::sys::signal::Signal::SIGKILL).ok();
        server.wait().ok();
        fx.cleanup(server);
        nets.teardown_container(fx.id()).expect("teardown");
    }
    nets.remove(&net).expect("remove");
    assert_nothing_left(tmp.path(), &interfaces, nets.nft_table());
}
