//! `compose port SERVICE PRIVATE_PORT`: the host address a container port
//! is published on (`0.0.0.0:8080`), as the supervisor bound it (a random
//! or ranged host port is only known then). Also the publishers of a
//! container as `ps` shows them (docker compose's `Publishers` and
//! docker's PORTS column).

use super::session::Session;
use super::GlobalArgs;
use compose_runtime::network::Protocol;
use compose_runtime::project::ObservedContainer;
use compose_runtime::supervisor::netsvc::ports::PortEntry;
use compose_runtime::supervisor::netsvc::want::is_up;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PortArgs {
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    pub service: String,
    pub private_port: u16,
}

/// Why no address can be printed (docker compose's messages).
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("--protocol {0:?}: use tcp or udp")]
    Protocol(String),
    #[error("no such service: {0}")]
    NoService(String),
    #[error("service {0:?} is not running")]
    NotRunning(String),
    #[error("service {0:?} is not running container #{1}")]
    NotRunningIndex(String, u32),
    #[error("no port {port}/{protocol} for container {container}: {}", published.join(", "))]
    NotPublished {
        port: u16,
        protocol: Protocol,
        container: String,
        published: Vec<String>,
    },
}

pub fn run(global: &GlobalArgs, args: &PortArgs) -> anyhow::Result<ExitCode> {
    let protocol = Protocol::parse(&args.protocol)
        .filter(|_| !args.protocol.is_empty())
        .ok_or_else(|| PortError::Protocol(args.protocol.clone()))?;
    let session = Session::load_existing(global, &[])?;
    if !session.project.services.contains_key(&args.service) {
        return Err(PortError::NoService(args.service.clone()).into());
    }
    let snap = session.snapshot()?;
    let container = pick(&snap.containers, &args.service, args.index)?;
    let ports = published(&session)?;
    let entry = ports.iter().find(|e| {
        e.service == args.service && e.container_port == args.private_port && e.protocol == protocol
    });
    match entry {
        Some(e) => {
            println!("{}", host_port(&e.host_ip.to_string(), e.host_port));
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let mut published: Vec<String> = publishers(container, &ports)
                .iter()
                .map(|p| format!("{}/{}", p.target_port, p.protocol))
                .collect();
            // A port on both 0.0.0.0 and [::] is one container port.
            published.dedup();
            Err(PortError::NotPublished {
                port: args.private_port,
                protocol,
                container: container.record.name.clone(),
                published,
            }
            .into())
        }
    }
}

/// The running container of `service` numbered `index` (`0`: the lowest
/// number), as docker compose picks it.
fn pick<'a>(
    containers: &'a [ObservedContainer],
    service: &str,
    index: u32,
) -> Result<&'a ObservedContainer, PortError> {
    containers
        .iter()
        .filter(|c| c.record.service == service && is_up(c))
        .filter(|c| index == 0 || c.record.number == index)
        .min_by_key(|c| c.record.number)
        .ok_or_else(|| match index {
            0 => PortError::NotRunning(service.to_string()),
            n => PortError::NotRunningIndex(service.to_string(), n),
        })
}

/// What the project's supervisor publishes now (nothing without containers).
pub fn published(session: &Session) -> anyhow::Result<Vec<PortEntry>> {
    if session.dir.has_containers() {
        Ok(session.client()?.ports()?)
    } else {
        Ok(Vec::new())
    }
}

/// One port of a container, docker compose's `PortPublisher`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Publisher {
    /// The host address; empty for a port that is only exposed.
    #[serde(rename = "URL")]
    pub url: String,
    #[serde(rename = "TargetPort")]
    pub target_port: u16,
    /// 0 for a port that is only exposed.
    #[serde(rename = "PublishedPort")]
    pub published_port: u16,
    #[serde(rename = "Protocol")]
    pub protocol: Protocol,
}

/// A running container's ports: its service's published ones, then what
/// it only exposes; sorted by target port (docker compose's order). A
/// container that does not run has none, as with Docker.
pub fn publishers(c: &ObservedContainer, ports: &[PortEntry]) -> Vec<Publisher> {
    if !is_up(c) {
        return Vec::new();
    }
    let mut out: Vec<Publisher> = ports
        .iter()
        .filter(|e| e.service == c.record.service)
        .map(|e| Publisher {
            url: e.host_ip.to_string(),
            target_port: e.container_port,
            published_port: e.host_port,
            protocol: e.protocol,
        })
        .collect();
    for exposed in &c.record.exposed {
        let known = out
            .iter()
            .any(|p| p.target_port == exposed.port && p.protocol == exposed.protocol);
        if !known {
            out.push(Publisher {
                url: String::new(),
                target_port: exposed.port,
                published_port: 0,
                protocol: exposed.protocol,
            });
        }
    }
    out.sort_by(|a, b| {
        (a.target_port, &a.url, a.published_port, a.protocol).cmp(&(
            b.target_port,
            &b.url,
            b.published_port,
            b.protocol,
        ))
    });
    out.dedup();
    out
}

/// `ip:port` (or a port range), with brackets around an IPv6 address.
fn host_port(ip: &str, port: impl std::fmt::Display) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// docker's PORTS column: consecutive ports published on the same port
/// number (or only exposed) fold into ranges, `0.0.0.0:8000-8001->8000-8001/tcp`,
/// `80/tcp`; other mappings follow one by one, `0.0.0.0:8080->80/tcp`.
pub fn display(publishers: &[Publisher]) -> String {
    // (ip, protocol) → runs of (first, last), in first-seen order.
    type Runs = Vec<(u16, u16)>;
    let mut groups: Vec<((String, Protocol), Runs)> = Vec::new();
    let mut mappings = Vec::new();
    for p in publishers {
        if !p.url.is_empty() && p.published_port != p.target_port {
            mappings.push(format!(
                "{}->{}/{}",
                host_port(&p.url, p.published_port),
                p.target_port,
                p.protocol
            ));
            continue;
        }
        let key = (p.url.clone(), p.protocol);
        let port = p.target_port;
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, runs)) => match runs.last_mut() {
                Some(run) if port == run.1.saturating_add(1) => run.1 = port,
                Some(run) if port == run.1 => {}
                _ => runs.push((port, port)),
            },
            None => groups.push((key, vec![(port, port)])),
        }
    }
    let mut out = Vec::new();
    for ((ip, protocol), runs) in groups {
        for (first, last) in runs {
            let range = if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            };
            out.push(if ip.is_empty() {
                format!("{range}/{protocol}")
            } else {
                format!("{}->{range}/{protocol}", host_port(&ip, &range))
            });
        }
    }
    out.extend(mappings);
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher(url: &str, target: u16, published: u16, protocol: Protocol) -> Publisher {
        Publisher {
            url: url.into(),
            target_port: target,
            published_port: published,
            protocol,
        }
    }

    #[test]
    fn ports_column_reads_like_dockers() {
        let tcp = Protocol::Tcp;
        assert_eq!(
            display(&[publisher("0.0.0.0", 80, 8080, tcp)]),
            "0.0.0.0:8080->80/tcp"
        );
        assert_eq!(
            display(&[
                publisher("", 53, 0, Protocol::Udp),
                publisher("0.0.0.0", 80, 8080, tcp),
                publisher("127.0.0.1", 8000, 8000, tcp),
                publisher("127.0.0.1", 8001, 8001, tcp),
                publisher("", 9000, 0, tcp),
            ]),
            "53/udp, 127.0.0.1:8000-8001->8000-8001/tcp, 9000/tcp, 0.0.0.0:8080->80/tcp"
        );
        assert_eq!(
            display(&[
                publisher("0.0.0.0", 80, 8080, tcp),
                publisher("::", 80, 8080, tcp)
            ]),
            "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
        );
        assert_eq!(display(&[]), "");
    }
}
