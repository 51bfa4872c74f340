//! resolv.conf: the host's upstream resolvers (where unknown names are
//! forwarded) and the content of a container's /etc/resolv.conf, which
//! points at its embedded DNS server on 127.0.0.11.

use super::embedded;
use std::net::{IpAddr, SocketAddr};

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

/// A container's resolv.conf, as Docker writes it for its embedded
/// server: that server first and only (so every lookup sees the project's
/// names), the search domains given, and `ndots:0` (a name with no dot is
/// tried as is first, not with every search domain) unless the options
/// given set `ndots` themselves, which then win (Docker keeps the user's).
pub fn container_resolv_conf(search: &[String], options: &[String]) -> String {
    let mut out = format!("nameserver {}\n", embedded::ADDRESS);
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    let mut all: Vec<&str> = Vec::with_capacity(options.len() + 1);
    if !options.iter().any(|o| o.starts_with("ndots:")) {
        all.push("ndots:0");
    }
    all.extend(options.iter().map(String::as_str));
    out.push_str(&format!("options {}\n", all.join(" ")));
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
    fn container_file_points_at_the_embedded_server() {
        assert_eq!(
            container_resolv_conf(&[], &[]),
            "nameserver 127.0.0.11\noptions ndots:0\n"
        );
        let text = container_resolv_conf(
            &["corp.example".into(), "lan".into()],
            &["timeout:1".into(), "rotate".into()],
        );
        assert_eq!(
            text,
            "nameserver 127.0.0.11\nsearch corp.example lan\noptions ndots:0 timeout:1 rotate\n"
        );
    }

    #[test]
    fn the_users_ndots_wins() {
        assert_eq!(
            container_resolv_conf(&[], &["ndots:2".into()]),
            "nameserver 127.0.0.11\noptions ndots:2\n"
        );
    }
}
