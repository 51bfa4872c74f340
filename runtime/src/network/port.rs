//! Published and exposed ports, as a container's record carries them: what
//! the supervisor's proxies listen on (`ports:`) and what links describe
//! (`expose:`, the image's `EXPOSE`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// A transport protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    /// `tcp` / `udp` in any case; `None` for anything else (sctp).
    pub fn parse(text: &str) -> Option<Protocol> {
        match text.to_ascii_lowercase().as_str() {
            "" | "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `ports:` entry of a service, one container port each (ranges are
/// expanded by the CLI): the host side listens on `host_ip` and the first
/// free port of `host_ports` (`None`: a port the kernel picks).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PublishedPort {
    /// `None`: every IPv4 address (Docker's 0.0.0.0).
    #[serde(default)]
    pub host_ip: Option<IpAddr>,
    /// An inclusive range; `(p, p)` for one port.
    #[serde(default)]
    pub host_ports: Option<(u16, u16)>,
    pub container_port: u16,
    pub protocol: Protocol,
}

/// A port the container exposes, for link variables and `ps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExposedPort {
    pub port: u16,
    pub protocol: Protocol,
}

impl ExposedPort {
    /// `80`, `80/tcp`, `53/udp` (the image config's `ExposedPorts` keys).
    pub fn parse(text: &str) -> Option<ExposedPort> {
        let (port, proto) = text.split_once('/').unwrap_or((text, "tcp"));
        Some(ExposedPort {
            port: port.trim().parse().ok()?,
            protocol: Protocol::parse(proto)?,
        })
    }
}

/// A legacy `links:` entry, resolved to a container: the consumer gets
/// Docker's link variables (`<ALIAS>_PORT_80_TCP_ADDR`, ...) for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The linked container's name (`<project>-<service>-1`).
    pub container: String,
    /// The name the consumer knows it by (the service name by default).
    pub alias: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposed_ports_parse_as_image_configs_write_them() {
        assert_eq!(
            ExposedPort::parse("80/tcp"),
            Some(ExposedPort {
                port: 80,
                protocol: Protocol::Tcp
            })
        );
        assert_eq!(
            ExposedPort::parse("53/UDP").unwrap().protocol,
            Protocol::Udp
        );
        assert_eq!(ExposedPort::parse("8080").unwrap().port, 8080);
        assert_eq!(ExposedPort::parse("x/tcp"), None);
        assert_eq!(ExposedPort::parse("1/sctp"), None);
    }
}
