//! `up` puts services on project networks: each container gets its own
//! network namespace with an address on the project's bridge, /etc/hosts
//! and /etc/resolv.conf that go with it, Docker's link variables, and
//! `network_mode: service:` shares a namespace (and its DNS server).
//! `down` leaves no bridge, veth, namespace or nft table. (Names over DNS and published ports are
//! served by the supervisor: tests/network_up.rs.)

mod up_support;

use up_support::{stderr, Project};

/// `b` serves /www/index.html on port 8000 (busybox httpd, in the
/// foreground); `a` links to it as `bee`; `c` shares `b`'s namespace.
/// b's unknown names go to a closed port of the host's loopback (SERVFAIL
/// at once), never to the host's resolvers.
const WEB: &str = "
services:
  b:
    image: IMAGE
    dns: [\"127.0.0.1:9\"]
    expose: [\"8000\"]
    environment:
      FLAVOUR: plain
    command: [\"sh\", \"-c\", \"mkdir -p /www && echo hello from b > /www/index.html && exec httpd -f -p 8000 -h /www\"]
  a:
    image: IMAGE
    links: [\"b:bee\"]
    command: sleep 3600
  c:
    image: IMAGE
    network_mode: \"service:b\"
    command: sleep 3600
";

fn exec(p: &Project, service: &str, script: &str) -> String {
    let out = p.compose(&["exec", "-T", service, "sh", "-c", script]);
    assert!(
        out.status.success(),
        "exec {service} {script:?}: {}",
        stderr(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The container's `eth0` IPv4 address, from `ip -o -4 addr`.
fn address(p: &Project, service: &str) -> String {
    let out = exec(p, service, "ip -o -4 addr show dev eth0");
    let word = out
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .unwrap_or_else(|| panic!("no inet in {out:?}"));
    word.split('/').next().unwrap().to_string()
}

#[test]
fn services_share_a_network_with_hosts_resolv_conf_and_link_variables() {
    let p = Project::new("net", WEB);
    p.ok(&["up", "-d"]);
    let (a, b) = (address(&p, "a"), address(&p, "b"));
    assert_ne!(a, b);
    assert!(a.starts_with("10.") && b.starts_with("10."), "{a} {b}");

    // /etc/hosts names the container's own address; resolv.conf points
    // at the container's own DNS server (Docker's 127.0.0.11).
    let hosts = exec(&p, "a", "cat /etc/hosts");
    let hostname = exec(&p, "a", "hostname");
    assert!(
        hosts.contains(&format!("{a}\t{}", hostname.trim())),
        "{hosts}"
    );
    let resolv = exec(&p, "a", "cat /etc/resolv.conf");
    assert_eq!(resolv, "nameserver 127.0.0.11\noptions ndots:0\n");

    // Docker's link variables, with b's address.
    let env = exec(&p, "a", "env");
    for var in [
        format!("BEE_PORT=tcp://{b}:8000"),
        format!("BEE_PORT_8000_TCP=tcp://{b}:8000"),
        format!("BEE_PORT_8000_TCP_ADDR={b}"),
        "BEE_PORT_8000_TCP_PORT=8000".to_string(),
        "BEE_PORT_8000_TCP_PROTO=tcp".to_string(),
        format!("BEE_NAME=/{}/bee", p.container("a", 1)),
        "BEE_ENV_FLAVOUR=plain".to_string(),
    ] {
        assert!(env.lines().any(|l| l == var), "{var} missing in:\n{env}");
    }

    // a reaches b over the bridge; c, in b's namespace, on loopback.
    let page = exec(
        &p,
        "a",
        "wget -qO- http://$BEE_PORT_8000_TCP_ADDR:8000/index.html",
    );
    assert_eq!(page, "hello from b\n");
    let page = exec(&p, "c", "wget -qO- http://127.0.0.1:8000/index.html");
    assert_eq!(page, "hello from b\n");
    assert_eq!(address(&p, "c"), b);
    // c shares b's resolv.conf and so b's DNS server: it resolves a, and
    // b's view has no `bee` (that alias is a's own).
    assert_eq!(exec(&p, "c", "cat /etc/resolv.conf"), resolv);
    let found = exec(&p, "c", "nslookup a");
    assert!(found.contains(&format!("Address: {a}")), "{found}");
    let out = p.compose(&["exec", "-T", "c", "nslookup", "bee"]);
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let found = exec(&p, "a", "nslookup bee");
    assert!(found.contains(&format!("Address: {b}")), "{found}");

    let names = p.container_dirs();
    let pids = p.init_pids();
    let interfaces = p.network_interfaces();
    assert_eq!(
        interfaces.len(),
        3,
        "a bridge and two veths: {interfaces:?}"
    );
    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &pids);
    p.assert_no_network_left(&interfaces);
}

#[test]
fn a_stopped_container_gives_its_address_back_and_start_joins_again() {
    let p = Project::new(
        "restart",
        "services:\n  s:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let before = address(&p, "s");
    let interfaces = p.network_interfaces();
    p.ok(&["stop", "-t", "1"]);
    let now = p.network_interfaces();
    assert_eq!(now.len(), 1, "only the bridge stays: {now:?}");
    assert!(std::fs::read_dir(p.root.path().join("netns"))
        .map(|mut d| d.next().is_none())
        .unwrap_or(true));
    p.ok(&["start"]);
    assert_eq!(address(&p, "s"), before);
    p.ok(&["down", "-t", "1"]);
    p.assert_no_network_left(&interfaces);
}

/// A service at `address` on a network with a subnet and an aux address.
fn fixed_address(address: &str) -> String {
    format!(
        "
services:
  s:
    image: IMAGE
    command: sleep 3600
    networks:
      back:
        ipv4_address: {address}
networks:
  back:
    ipam:
      config:
        - subnet: 10.123.45.0/24
          aux_addresses:
            printer: 10.123.45.11
"
    )
}

#[test]
fn fixed_addresses_and_custom_subnets_are_honoured_and_clashes_explained() {
    let p = Project::new("ipam", &fixed_address("10.123.45.10"));
    p.ok(&["up", "-d"]);
    assert_eq!(address(&p, "s"), "10.123.45.10");
    let interfaces = p.network_interfaces();
    p.ok(&["down", "-t", "1"]);
    p.assert_no_network_left(&interfaces);

    p.write(&fixed_address("10.123.45.11"));
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("address 10.123.45.11 is already used by aux_addresses.printer"),
        "{err}"
    );
    assert!(p.container_dirs().is_empty(), "{:?}", p.container_dirs());
    p.ok(&["down"]);
    p.assert_no_network_left(&[]);
}

#[test]
fn a_missing_external_network_is_a_clear_error() {
    let p = Project::new(
        "external",
        "
services:
  s:
    image: IMAGE
    command: sleep 3600
    networks: [outside]
networks:
  outside:
    external: true
    name: nowhere_net
",
    );
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("network nowhere_net declared as external, but could not be found"),
        "{err}"
    );
    assert!(p.container_dirs().is_empty(), "{:?}", p.container_dirs());
    p.assert_no_network_left(&[]);
}

#[test]
fn an_ipv6_network_gives_containers_ipv6_addresses_that_reach_each_other() {
    let p = Project::new(
        "v6",
        "
services:
  a:
    image: IMAGE
    command: sleep 3600
    networks:
      dual:
        ipv6_address: fd42:4242:1::10
  b:
    image: IMAGE
    command: sleep 3600
    networks: [dual]
networks:
  dual:
    enable_ipv6: true
    ipam:
      config:
        - subnet: fd42:4242:1::/64
",
    );
    p.ok(&["up", "-d"]);
    let v6 = |service: &str| {
        let out = exec(&p, service, "ip -o -6 addr show dev eth0 scope global");
        out.split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)
            .unwrap_or_else(|| panic!("no inet6 in {out:?}"))
            .to_string()
    };
    assert_eq!(v6("a"), "fd42:4242:1::10/64");
    let b = v6("b");
    assert!(b.starts_with("fd42:4242:1::"), "{b}");
    let route = exec(&p, "b", "ip -6 route show default");
    assert!(route.contains("via fd42:4242:1::1"), "{route}");
    let b_addr = b.split('/').next().unwrap();
    exec(&p, "a", &format!("ping -c 1 -W 2 {b_addr}"));
    assert!(!address(&p, "a").is_empty(), "IPv4 stays");
    let interfaces = p.network_interfaces();
    p.ok(&["down", "-t", "1"]);
    p.assert_no_network_left(&interfaces);
    let table = compose_runtime::network::nft::table_for_root(p.root.path());
    let out = std::process::Command::new("nft")
        .args(["list", "table", "ip6", &table])
        .output()
        .unwrap();
    assert!(!out.status.success(), "ip6 table {table} left");
}

#[test]
fn two_projects_cannot_reach_each_other_and_an_internal_network_stays_inside() {
    let server = "
services:
  web:
    image: IMAGE
    command: [\"sh\", \"-c\", \"mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8000 -h /www\"]
  peer:
    image: IMAGE
    command: sleep 3600
";
    let p = Project::new("iso-a", server);
    let q = Project::new(
        "iso-b",
        "
services:
  probe:
    image: IMAGE
    command: sleep 3600
  shut:
    image: IMAGE
    command: sleep 3600
    networks: [closed]
networks:
  closed:
    internal: true
",
    );
    p.ok(&["up", "-d"]);
    q.ok(&["up", "-d"]);
    let web = address(&p, "web");
    let url = format!("http://{web}:8000/index.html");
    // Same project: reachable.
    assert_eq!(exec(&p, "peer", &format!("wget -qO- {url}")), "hi\n");
    // Another project's container: dropped between the bridges.
    // (busybox wget's own -T crashes; `timeout` ends a hanging connect.)
    let dropped = |service: &str| {
        let script = format!("timeout 2 wget -O- {url}");
        let out = q.compose(&["exec", "-T", service, "sh", "-c", &script]);
        assert_eq!(
            out.status.code(),
            Some(143),
            "{service}: the connection should hang (dropped), not fail or succeed: {}",
            stderr(&out)
        );
    };
    dropped("probe");
    // An internal network has no way out, not even to another network.
    dropped("shut");
    let route = exec(&q, "shut", "ip route");
    assert!(route.contains("default via"), "{route}");

    let (pi, qi) = (p.network_interfaces(), q.network_interfaces());
    p.ok(&["down", "-t", "1"]);
    q.ok(&["down", "-t", "1"]);
    p.assert_no_network_left(&pi);
    q.assert_no_network_left(&qi);
}

#[test]
fn two_state_roots_run_projects_of_the_same_name_side_by_side() {
    // Two COMPOSE_ROOTs, one project name: the same container names, but
    // bridges, veths and cgroups are machine-wide and must not be shared.
    let yaml = "
services:
  web:
    image: IMAGE
    command: [\"sh\", \"-c\", \"mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8000 -h /www\"]
  peer:
    image: IMAGE
    command: sleep 3600
";
    let p = Project::new("same", yaml);
    let q = Project::new("same", yaml);
    assert_eq!(p.name, q.name);
    assert_ne!(p.compose_root(), q.compose_root());
    p.ok(&["up", "-d"]);
    q.ok(&["up", "-d"]);
    let (pi, qi) = (p.network_interfaces(), q.network_interfaces());
    assert!(
        pi.iter().all(|name| !qi.contains(name)),
        "interfaces shared: {pi:?} {qi:?}"
    );
    for project in [&p, &q] {
        let web = address(project, "web");
        let page = exec(
            project,
            "peer",
            &format!("wget -qO- http://{web}:8000/index.html"),
        );
        let hostname = exec(project, "web", "hostname");
        assert_eq!(page, hostname, "each root's peer reaches its own web");
    }
    // Taking one root down leaves the other running.
    let (names, pids) = (p.container_dirs(), p.init_pids());
    p.ok(&["down", "-t", "1"]);
    p.assert_nothing_left(&names, &pids);
    p.assert_no_network_left(&pi);
    let web = address(&q, "web");
    let page = exec(
        &q,
        "peer",
        &format!("wget -qO- http://{web}:8000/index.html"),
    );
    assert_eq!(page, exec(&q, "web", "hostname"));
    let (names, pids) = (q.container_dirs(), q.init_pids());
    q.ok(&["down", "-t", "1"]);
    q.assert_nothing_left(&names, &pids);
    q.assert_no_network_left(&qi);
}

/// The root's nft table as `nft` lists it.
fn nft_table(p: &Project) -> String {
    let table = compose_runtime::network::nft::table_for_root(p.compose_root());
    let out = std::process::Command::new("nft")
        .args(["list", "table", "ip", &table])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One `GET /` through `addr`: the body (the replica's hostname).
fn get(addr: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1.trim().to_string();
    (text.contains("200 OK") && !body.is_empty()).then_some(body)
}

#[test]
fn a_published_port_is_forwarded_by_the_kernel_even_while_the_supervisor_is_down() {
    let p = Project::new(
        "dnat",
        "
services:
  web:
    image: IMAGE
    deploy:
      replicas: 3
    ports: [\"127.0.0.1::8000\"]
    command: [\"sh\", \"-c\", \"mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8000 -h /www\"]
",
    );
    p.ok(&["up", "-d"]);
    let addr = p.ok(&["port", "web", "8000"]).trim().to_string();
    // Until every replica's server is up a connection may meet a refusal:
    // see all three once, then count.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "only {seen:?}");
        match get(&addr) {
            Some(host) => {
                seen.insert(host);
            }
            None => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    let count = |n: usize| {
        let mut counts = std::collections::BTreeMap::new();
        for _ in 0..n {
            let host = get(&addr).expect("an answer");
            *counts.entry(host).or_insert(0) += 1;
        }
        counts.into_values().collect::<Vec<usize>>()
    };
    assert_eq!(count(9), [3, 3, 3], "one connection each in turn");
    let table = nft_table(&p);
    assert!(table.contains("numgen inc mod 3"), "{table}");

    // The supervisor dies: its socket closes, the kernel still forwards.
    p.kill_supervisor();
    assert!(get(&addr).is_some(), "forwarded without the supervisor");
    // The next command's supervisor replaces the rules (one pair of chains).
    assert_eq!(p.ok(&["port", "web", "8000"]).trim(), addr);
    let table = nft_table(&p);
    assert_eq!(table.matches("chain ports_").count(), 2, "{table}");
    assert_eq!(count(6), [2, 2, 2]);

    let interfaces = p.network_interfaces();
    p.ok(&["down", "-t", "1"]);
    assert!(get(&addr).is_none());
    p.assert_no_network_left(&interfaces);
}
