//! Where a container's network comes from: `network_mode` (host, none,
//! another container's namespace) or the project networks it joins
//! (`networks:`, else the project's `default`), with what goes with them:
//! published ports, exposed ports, legacy links and DNS settings. Also the
//! runtime spec of a top-level network. Pure: the runtime makes the
//! namespaces, bridges and proxies from this data.

use super::{Context, Note, RunSpecError};
use crate::model::service::ServiceNetworkConfig;
use crate::model::{NetworkConfig, ServiceConfig, ServicePortConfig};
use compose_runtime::container::spec::NetworkMode;
use compose_runtime::image::oci::ImageConfig;
use compose_runtime::network::netns::netns_path;
use compose_runtime::network::{
    Attachment, ExposedPort, Link, NetworkSpec, Protocol, PublishedPort,
};
use compose_runtime::project::record::DnsSettings;
use std::net::{IpAddr, Ipv4Addr};

/// A container's networking, as the runtime's record carries it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Networking {
    /// `NetworkMode::Loopback` for a container on networks: the runtime
    /// makes its namespace at start and joins it.
    pub mode: NetworkMode,
    pub attachments: Vec<Attachment>,
    pub ports: Vec<PublishedPort>,
    pub exposed: Vec<ExposedPort>,
    pub links: Vec<Link>,
    pub dns: DnsSettings,
}

/// Docker's driver option naming the bridge interface.
const BRIDGE_NAME_OPT: &str = "com.docker.network.bridge.name";
/// Docker's driver option setting the MTU.
const MTU_OPT: &str = "com.docker.network.driver.mtu";

/// The networking of one container of `service`.
pub fn networking(
    service: &ServiceConfig,
    ctx: &Context<'_>,
    notes: &mut Vec<Note>,
) -> Result<Networking, RunSpecError> {
    let mut net = Networking {
        exposed: exposed(service, ctx.image)?,
        dns: DnsSettings {
            servers: service.dns.clone(),
            search: service.dns_search.clone(),
            options: service.dns_opt.clone(),
        },
        ..Default::default()
    };
    let mode = service.network_mode.as_str();
    let own = |kind: &str| RunSpecError::NetworkMode {
        service: service.name.clone(),
        mode: format!("{kind}{mode}"),
    };
    net.mode = match mode {
        "host" => NetworkMode::Host,
        "none" => NetworkMode::Loopback,
        "" | "bridge" | "default" => {
            net.attachments = attachments(service, ctx, notes)?;
            net.ports = published(service)?;
            net.links = links(service, ctx);
            return Ok(net);
        }
        other => {
            let target = if let Some(name) = other.strip_prefix("service:") {
                ctx.first_containers
                    .get(name)
                    .cloned()
                    .ok_or_else(|| own(""))?
            } else if let Some(name) = other.strip_prefix("container:") {
                name.to_string()
            } else {
                return Err(own(""));
            };
            NetworkMode::Join {
                path: netns_path(ctx.compose_root, &target),
            }
        }
    };
    if !service.ports.is_empty() {
        // Docker discards them too ("published ports are discarded when
        // using host network mode").
        notes.push(Note::PortsDiscarded {
            mode: mode.to_string(),
        });
    }
    Ok(net)
}

/// The service's networks, highest `priority` first then by name (docker
/// compose's order); the first one's gateway is the default route.
fn attachments(
    service: &ServiceConfig,
    ctx: &Context<'_>,
    notes: &mut Vec<Note>,
) -> Result<Vec<Attachment>, RunSpecError> {
    let default = [("default".to_string(), None)];
    let mut keys: Vec<(&String, Option<&ServiceNetworkConfig>)> = if service.networks.is_empty() {
        default.iter().map(|(k, v)| (k, v.as_ref())).collect()
    } else {
        service
            .networks
            .iter()
            .map(|(k, v)| (k, v.as_ref()))
            .collect()
    };
    keys.sort_by(|a, b| {
        let prio = |c: Option<&ServiceNetworkConfig>| c.map_or(0, |c| c.priority);
        prio(b.1).cmp(&prio(a.1)).then(a.0.cmp(b.0))
    });
    let mut out = Vec::new();
    for (key, config) in keys {
        let network = ctx
            .networks
            .get(key)
            .map_or_else(|| format!("{}_{key}", ctx.project), |n| n.name.clone());
        let mut att = Attachment::new(&network, ctx.container_name);
        if let Some(c) = config {
            att.aliases = c.aliases.clone();
            att.priority = c.gateway_priority.clamp(i32::MIN.into(), i32::MAX.into()) as i32;
            if !c.ipv4_address.is_empty() {
                att.ipv4_address =
                    Some(
                        c.ipv4_address
                            .parse()
                            .map_err(|_| RunSpecError::NetworkAddress {
                                service: service.name.clone(),
                                network: key.clone(),
                                value: c.ipv4_address.clone(),
                            })?,
                    );
            }
            if !c.mac_address.is_empty() {
                att.mac_address = Some(c.mac_address.clone());
            }
            if !c.ipv6_address.is_empty() {
                att.ipv6_address =
                    Some(
                        c.ipv6_address
                            .parse()
                            .map_err(|_| RunSpecError::NetworkAddress6 {
                                service: service.name.clone(),
                                network: key.clone(),
                                value: c.ipv6_address.clone(),
                            })?,
                    );
            }
            for (field, set) in [
                ("link_local_ips", !c.link_local_ips.is_empty()),
                ("interface_name", !c.interface_name.is_empty()),
                ("driver_opts", !c.driver_opts.is_empty()),
            ] {
                if set {
                    notes.push(Note::Ignored {
                        field: format!("networks.{key}.{field}"),
                    });
                }
            }
        }
        out.push(att);
    }
    // The service-level `mac_address` belongs to the first network.
    if let (Some(first), false) = (out.first_mut(), service.mac_address.is_empty()) {
        first.mac_address.get_or_insert(service.mac_address.clone());
    }
    Ok(out)
}

/// `ports:`, one entry per container port (the loader already expanded
/// `80-81:80-81`); a host range with one container port keeps the range
/// (the first free port of it is taken).
fn published(service: &ServiceConfig) -> Result<Vec<PublishedPort>, RunSpecError> {
    service
        .ports
        .iter()
        .enumerate()
        .map(|(index, p)| published_port(service, index, p))
        .collect()
}

fn published_port(
    service: &ServiceConfig,
    index: usize,
    p: &ServicePortConfig,
) -> Result<PublishedPort, RunSpecError> {
    let bad = |reason: &str| RunSpecError::Port {
        service: service.name.clone(),
        index,
        reason: reason.to_string(),
    };
    let protocol = Protocol::parse(&p.protocol).ok_or_else(|| {
        bad(&format!(
            "protocol {:?} is not supported (tcp or udp)",
            p.protocol
        ))
    })?;
    let container_port = u16::try_from(p.target)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad("the container port must be 1-65535"))?;
    let host_ip = match p.host_ip.as_str() {
        "" => None,
        text => Some(
            text.trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .map_err(|_| bad(&format!("host_ip {text:?} is not an IP address")))?,
        ),
    };
    let host_ports = match p.published.as_str() {
        "" => None,
        text => Some(
            port_range(text)
                .ok_or_else(|| bad(&format!("published port {text:?} is not a port or range")))?,
        ),
    };
    Ok(PublishedPort {
        host_ip: host_ip.filter(|ip| *ip != IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        host_ports,
        container_port,
        protocol,
    })
}

/// `8080` or `8000-8010`.
fn port_range(text: &str) -> Option<(u16, u16)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (a, b): (u16, u16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a != 0 && a <= b).then_some((a, b))
}

/// The image's `EXPOSE`, `expose:` and the `ports:` targets.
fn exposed(service: &ServiceConfig, image: &ImageConfig) -> Result<Vec<ExposedPort>, RunSpecError> {
    let mut out: Vec<ExposedPort> = image
        .config
        .exposed_ports
        .keys()
        .filter_map(|k| ExposedPort::parse(k))
        .collect();
    for (index, text) in service.expose.iter().enumerate() {
        let (ports, proto) = text.split_once('/').unwrap_or((text, "tcp"));
        let protocol = Protocol::parse(proto);
        let range = port_range(ports);
        let (Some(protocol), Some((a, b))) = (protocol, range) else {
            return Err(RunSpecError::Expose {
                service: service.name.clone(),
                index,
                entry: text.clone(),
            });
        };
        out.extend((a..=b).map(|port| ExposedPort { port, protocol }));
    }
    for p in &service.ports {
        if let (Ok(port), Some(protocol)) = (u16::try_from(p.target), Protocol::parse(&p.protocol))
        {
            out.push(ExposedPort { port, protocol });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `links: [db, "db:database"]`: the first container of the service, by
/// the alias (the service name when none is given).
fn links(service: &ServiceConfig, ctx: &Context<'_>) -> Vec<Link> {
    service
        .links
        .iter()
        .filter_map(|entry| {
            let (target, alias) = entry.split_once(':').unwrap_or((entry, entry));
            let container = ctx
                .first_containers
                .get(target)
                .cloned()
                .unwrap_or_else(|| target.to_string());
            (!alias.is_empty()).then(|| Link {
                container,
                alias: alias.to_string(),
            })
        })
        .collect()
}

/// `text` parsed, `None` when empty; an error names the field and what it
/// should be.
fn optional<T: std::str::FromStr>(
    text: &str,
    field: &str,
    what: &str,
    bad: &impl Fn(&str, String) -> RunSpecError,
) -> Result<Option<T>, RunSpecError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| bad(field, format!("{text:?} is not {what}")))
}

/// The runtime spec of the project network `key`: a bridge (the only
/// driver of the bundled runtime), its IPv4 `ipam.config`, `internal`,
/// the bridge name and MTU driver options, labels.
pub fn network_spec(
    key: &str,
    config: &NetworkConfig,
    notes: &mut Vec<Note>,
) -> Result<NetworkSpec, RunSpecError> {
    let bad = |field: &str, reason: String| RunSpecError::Network {
        network: key.to_string(),
        field: field.to_string(),
        reason,
    };
    if !matches!(config.driver.as_str(), "" | "bridge") {
        return Err(bad(
            "driver",
            format!(
                "driver {:?} is not supported by the bundled runtime (use bridge, or leave it unset)",
                config.driver
            ),
        ));
    }
    let mut spec = NetworkSpec::new(&config.name);
    spec.internal = config.internal;
    spec.labels = config
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (opt, value) in &config.driver_opts {
        match opt.as_str() {
            BRIDGE_NAME_OPT => spec.bridge_name = Some(value.clone()),
            MTU_OPT => {
                spec.mtu = Some(value.parse().map_err(|_| {
                    bad(
                        &format!("driver_opts.{opt}"),
                        format!("{value:?} is not a number"),
                    )
                })?)
            }
            _ => notes.push(Note::Ignored {
                field: format!("networks.{key}.driver_opts.{opt}"),
            }),
        }
    }
    spec.ipv6 = config.enable_ipv6 == Some(true);
    // One IPv4 and one IPv6 `ipam.config` entry per network (Docker's
    // bridge driver takes one pool per family).
    let mut seen = (false, false);
    for (index, pool) in config.ipam.config.iter().enumerate() {
        let v6 = pool.subnet.contains(':');
        let field = |f: &str| format!("ipam.config[{index}].{f}");
        let first = if v6 { &mut seen.1 } else { &mut seen.0 };
        if std::mem::replace(first, true) {
            notes.push(Note::Ignored {
                field: format!(
                    "networks.{key}.ipam.config[{index}] (one IPv{} subnet per network)",
                    if v6 { 6 } else { 4 }
                ),
            });
            continue;
        }
        let family = if v6 { "IPv6" } else { "IPv4" };
        let subnet_what = format!(
            "an {family} subnet (like {})",
            if v6 { "fd00:1::/64" } else { "10.5.0.0/16" }
        );
        let address_what = format!("an {family} address");
        if v6 {
            spec.subnet6 = optional(&pool.subnet, &field("subnet"), &subnet_what, &bad)?;
            spec.gateway6 = optional(&pool.gateway, &field("gateway"), &address_what, &bad)?;
            continue;
        }
        spec.subnet = optional(&pool.subnet, &field("subnet"), &subnet_what, &bad)?;
        spec.gateway = optional(&pool.gateway, &field("gateway"), &address_what, &bad)?;
        spec.ip_range = optional(&pool.ip_range, &field("ip_range"), "an IPv4 subnet", &bad)?;
        for (host, addr) in &pool.auxiliary_addresses {
            let name = field(&format!("aux_addresses.{host}"));
            if let Some(addr) = optional(addr, &name, &address_what, &bad)? {
                spec.aux_addresses.insert(host.clone(), addr);
            }
        }
    }
    if spec.subnet6.is_some() && !spec.ipv6 {
        return Err(bad(
            "ipam.config",
            "an IPv6 subnet needs `enable_ipv6: true` on the network".to_string(),
        ));
    }
    Ok(spec)
}
