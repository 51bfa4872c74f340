//! resolv.conf: the host's upstream resolvers (where unknown names are
//! forwarded) and the content of a container's /etc/resolv.conf, which
//! points at the network's DNS server on the gateway.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The `nameserver` addresses of a resolv.conf, port 53.
pub fn nameservers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == "nameserver").then_some(())?;
            let ip: IpAddr = words.next()?.split('%').next()?.parse().ok()?;
            Some(SocketAddr::new(ip, 53))
        })
        .collect()
}

/// A container's resolv.conf: our server first and only (so every lookup
/// sees the project's names), then the search domains and options given.
pub fn container_resolv_conf(
    dns_server: Ipv4Addr,
    search: &[String],
    options: &[String],
) -> String {
    let mut out = format!("nameserver {dns_server}\n");
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_are_read_and_comments_skipped() {
        let text = "# generated\nnameserver 127.0.0.53\nsearch lan\nnameserver fe80::1%eth0\n;nameserver 9.9.9.9\n";
        assert_eq!(
            nameservers(text),
            [
                "127.0.0.53:53".parse::<SocketAddr>().unwrap(),
                "[fe80::1]:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn container_file_points_at_the_gateway() {
        let text = container_resolv_conf(
            Ipv4Addr::new(10, 89, 0, 1),
            &["corp.example".into()],
            &["ndots:0".into()],
        );
        assert_eq!(
            text,
            "nameserver 10.89.0.1\nsearch corp.example\noptions ndots:0\n"
        );
    }
}
