//! Shared pieces of the network tests: a busybox container joined to a
//! persistent netns, unique names per test, and the after-teardown checks
//! (no link, no netns mount, no nft table left).
#![allow(dead_code)]

use crate::container_support::Fixture;
use compose_runtime::container::{Container, ContainerSpec, NetworkMode};
use compose_runtime::network::Networks;
use std::path::Path;
use std::process::Command;

/// Busybox applets the network tests use on top of the container fixture's.
const NET_APPLETS: [&str; 4] = ["ping", "nc", "nslookup", "timeout"];

/// A container fixture whose rootfs also has the network applets.
pub fn fixture(name: &str) -> Fixture {
    let fx = Fixture::new(name);
    for applet in NET_APPLETS {
        let _ = std::os::unix::fs::symlink("busybox", fx.rootfs.join("bin").join(applet));
    }
    fx
}

/// `args` in a container that joins the namespace at `netns`.
pub fn spec_in(fx: &Fixture, netns: &Path, args: &[&str]) -> ContainerSpec {
    let mut spec = fx.spec(args);
    spec.network = NetworkMode::Join {
        path: netns.to_path_buf(),
    };
    spec
}

/// Run to completion: (exit code, stdout).
pub fn run_in(fx: &Fixture, netns: &Path, args: &[&str]) -> (i32, String) {
    let (code, out, log) = fx.run(&spec_in(fx, netns, args));
    let _ = log;
    (code, out)
}

pub fn start_in(fx: &Fixture, netns: &Path, args: &[&str]) -> Container {
    fx.start(&spec_in(fx, netns, args))
}

/// A per-test name no other test or run uses (pid + tag), ≤ 12 chars.
pub fn unique(tag: &str) -> String {
    format!("{tag}{}", std::process::id() % 100_000)
}

/// Networks of the fixture's COMPOSE_ROOT with the test's own nft table.
pub fn networks(root: &Path, tag: &str) -> Networks {
    // Fail, never skip, without root (bridges, netns, nft need it).
    crate::container_support::require_root();
    Networks::new(root).with_nft_table(&format!("compose_t{}", unique(tag)))
}

pub fn links() -> String {
    let out = Command::new("ip")
        .args(["-o", "link"])
        .output()
        .expect("ip -o link");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn nft_tables() -> String {
    let out = Command::new("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft list tables");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether one of `interfaces` is still a link on the host.
pub fn any_link_left(interfaces: &[String]) -> Option<String> {
    let links = links();
    interfaces
        .iter()
        .find(|name| links.contains(&format!(" {name}:")) || links.contains(&format!(" {name}@")))
        .cloned()
}

/// Wait (up to 5 s) for `interfaces` to be gone: a container's veth pair
/// goes with its namespace, which the kernel dismantles in the background.
pub fn wait_links_gone(interfaces: &[String]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while let Some(name) = any_link_left(interfaces) {
        assert!(
            std::time::Instant::now() < deadline,
            "link {name} left: {}",
            links()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Nothing of `names` (interfaces) nor the table nor a netns mount is left.
pub fn assert_nothing_left(root: &Path, interfaces: &[String], table: &str) {
    wait_links_gone(interfaces);
    let tables = nft_tables();
    assert!(
        !tables
            .lines()
            .any(|l| l.trim() == format!("table ip {table}")),
        "nft table {table} left: {tables}"
    );
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let netns_dir = root.join("netns");
    let left: Vec<&str> = mountinfo
        .lines()
        .filter(|l| l.contains(&*netns_dir.to_string_lossy()))
        .collect();
    assert!(left.is_empty(), "netns mounts left: {left:#?}");
}

/// Tears down on drop whatever a test set up, so a failed assertion does
/// not leave bridges, veths or netns mounts on the machine. After a
/// successful explicit teardown every step is a no-op.
pub struct Teardown {
    pub nets: Networks,
    pub networks: Vec<String>,
    pub containers: Vec<String>,
}

impl Teardown {
    pub fn new(nets: &Networks) -> Teardown {
        Teardown {
            nets: nets.clone(),
            networks: Vec::new(),
            containers: Vec::new(),
        }
    }
}

impl Drop for Teardown {
    fn drop(&mut self) {
        for container in &self.containers {
            let _ = self.nets.teardown_container(container);
        }
        for network in &self.networks {
            let _ = self.nets.remove(network);
        }
    }
}
