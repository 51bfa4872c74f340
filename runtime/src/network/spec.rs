//! Network and attachment specs: plain Rust, validated before any kernel
//! call (netavark's rule: validate every network, then apply).

use super::error::NetworkError;
pub use crate::scope::scope_for_root;
use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The prefix of the bridges we name ourselves.
pub const BRIDGE_PREFIX: &str = "cb-";

/// Linux's IFNAMSIZ minus the NUL: the longest interface name.
pub const MAX_IFNAME: usize = 15;

/// One project network (Compose `networks.<name>`, already prefixed with the
/// project name, e.g. `shop_default`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Unique network name (`<project>_<network>`).
    pub name: String,
    /// `ipam.config[].subnet`; `None` takes a /24 from the pool.
    #[serde(default)]
    pub subnet: Option<Ipv4Net>,
    /// `ipam.config[].gateway`; `None` is the subnet's first address.
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
    /// `ipam.config[].ip_range`: where dynamic addresses come from.
    #[serde(default)]
    pub ip_range: Option<Ipv4Net>,
    /// Compose `internal: true`: no traffic leaves the network.
    #[serde(default)]
    pub internal: bool,
    /// `driver_opts: com.docker.network.driver.mtu`.
    #[serde(default)]
    pub mtu: Option<u32>,
    /// `driver_opts: com.docker.network.bridge.name`; else derived.
    #[serde(default)]
    pub bridge_name: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `ipam.config[].aux_addresses`: addresses of other hosts on the
    /// network, never leased to a container.
    #[serde(default)]
    pub aux_addresses: BTreeMap<String, Ipv4Addr>,
    /// Compose `enable_ipv6: true`: containers also get an IPv6 address.
    #[serde(default)]
    pub ipv6: bool,
    /// The IPv6 `ipam.config[].subnet`; `None` takes a ULA /64 derived
    /// from the network's name.
    #[serde(default)]
    pub subnet6: Option<Ipv6Net>,
    /// The IPv6 `ipam.config[].gateway`; `None` is the subnet's `::1`.
    #[serde(default)]
    pub gateway6: Option<Ipv6Addr>,
}

/// One container on one network (Compose `services.<s>.networks.<n>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub network: String,
    /// The container name (`<project>-<service>-<n>`).
    pub container: String,
    /// DNS aliases besides the service and container names.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub ipv4_address: Option<Ipv4Addr>,
    /// Only on networks with IPv6.
    #[serde(default)]
    pub ipv6_address: Option<Ipv6Addr>,
    /// `mac_address`, "aa:bb:cc:dd:ee:ff".
    #[serde(default)]
    pub mac_address: Option<String>,
    /// Compose `gw_priority`: the highest one carries the default route
    /// (turned into the lowest route metric, so order of attach is free).
    #[serde(default)]
    pub priority: i32,
}

impl NetworkSpec {
    /// A spec with only a name: pool subnet, derived bridge, egress allowed.
    pub fn new(name: &str) -> NetworkSpec {
        NetworkSpec {
            name: name.to_string(),
            subnet: None,
            gateway: None,
            ip_range: None,
            internal: false,
            mtu: None,
            bridge_name: None,
            labels: BTreeMap::new(),
            aux_addresses: BTreeMap::new(),
            ipv6: false,
            subnet6: None,
            gateway6: None,
        }
    }

    /// The bridge's interface name: the explicit one, else `cb-` and 12 hex
    /// digits of the SHA-256 of the state root's scope (see
    /// [`scope_for_root`]) and the name (Docker's is `br-<id12>`; ours is
    /// stable across runs because it comes from the name, and differs
    /// between state roots that hold a project of the same name).
    pub fn bridge(&self, scope: &str) -> String {
        match &self.bridge_name {
            Some(name) => name.clone(),
            None => format!(
                "{BRIDGE_PREFIX}{}",
                short_hash(&scoped(scope, &self.name), 12)
            ),
        }
    }

    /// Everything checkable without the kernel or the IPAM state.
    pub fn validate(&self) -> Result<(), NetworkError> {
        self.problem().map_or(Ok(()), |problem| {
            Err(NetworkError::InvalidSpec {
                network: self.name.clone(),
                problem,
            })
        })
    }

    fn problem(&self) -> Option<SpecProblem> {
        if self.name.is_empty() || self.name.contains(['/', '\0']) {
            return Some(SpecProblem::Name);
        }
        if let Err(reason) = validate_ifname(&self.bridge("")) {
            return Some(SpecProblem::BridgeName { reason });
        }
        if let Some(mtu) = self.mtu.filter(|m| !(68..=65535).contains(m)) {
            return Some(SpecProblem::Mtu { mtu });
        }
        if let Some(problem) = self.problem6() {
            return Some(problem);
        }
        let Some(subnet) = self.subnet else {
            let needs_subnet =
                self.gateway.is_some() || self.ip_range.is_some() || !self.aux_addresses.is_empty();
            return needs_subnet.then_some(SpecProblem::NeedsSubnet);
        };
        if subnet.prefix_len() > 30 {
            return Some(SpecProblem::SubnetTooSmall { subnet });
        }
        if subnet.trunc() != subnet {
            return Some(SpecProblem::HostBits {
                subnet,
                network: subnet.trunc(),
            });
        }
        if let Some(gateway) = self.gateway.filter(|gw| !usable_host(subnet, *gw)) {
            return Some(SpecProblem::GatewayOutside { gateway, subnet });
        }
        if let Some(range) = self.ip_range.filter(|r| !subnet.contains(r)) {
            return Some(SpecProblem::RangeOutside { range, subnet });
        }
        if let Some((host, address)) = self
            .aux_addresses
            .iter()
            .find(|(_, a)| !usable_host(subnet, **a))
        {
            return Some(SpecProblem::AuxOutside {
                host: host.clone(),
                address: *address,
                subnet,
            });
        }
        None
    }
}

impl NetworkSpec {
    fn problem6(&self) -> Option<SpecProblem> {
        if !self.ipv6 {
            return (self.subnet6.is_some() || self.gateway6.is_some())
                .then_some(SpecProblem::Ipv6Disabled);
        }
        let subnet = self.subnet6?;
        if subnet.prefix_len() > 120 {
            return Some(SpecProblem::Subnet6TooSmall { subnet });
        }
        if subnet.trunc() != subnet {
            return Some(SpecProblem::HostBits6 {
                subnet,
                network: subnet.trunc(),
            });
        }
        match self.gateway6 {
            Some(gw) if !subnet.contains(&gw) || gw == subnet.network() => {
                Some(SpecProblem::Gateway6Outside {
                    gateway: gw,
                    subnet,
                })
            }
            _ => None,
        }
    }
}

/// What is wrong with a network spec (or its fit with existing networks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecProblem {
    #[error("the name must be non-empty and contain no '/'")]
    Name,
    #[error("bridge name: {reason}")]
    BridgeName { reason: String },
    #[error("mtu {mtu} is outside 68..=65535")]
    Mtu { mtu: u32 },
    #[error("gateway and ip_range need an explicit subnet")]
    NeedsSubnet,
    #[error("subnet {subnet} is too small (at most /30)")]
    SubnetTooSmall { subnet: Ipv4Net },
    #[error("subnet {subnet} has host bits set; did you mean {network}?")]
    HostBits { subnet: Ipv4Net, network: Ipv4Net },
    #[error("gateway {gateway} is not a host address of {subnet}")]
    GatewayOutside { gateway: Ipv4Addr, subnet: Ipv4Net },
    #[error("ip_range {range} is not inside subnet {subnet}")]
    RangeOutside { range: Ipv4Net, subnet: Ipv4Net },
    #[error("aux_addresses.{host}: {address} is not a host address of {subnet}")]
    AuxOutside {
        host: String,
        address: Ipv4Addr,
        subnet: Ipv4Net,
    },
    #[error("an IPv6 subnet or gateway needs `enable_ipv6: true`")]
    Ipv6Disabled,
    #[error("IPv6 subnet {subnet} is too small (at most /120)")]
    Subnet6TooSmall { subnet: Ipv6Net },
    #[error("IPv6 subnet {subnet} has host bits set (did you mean {network}?)")]
    HostBits6 { subnet: Ipv6Net, network: Ipv6Net },
    #[error("IPv6 gateway {gateway} is not a host address of {subnet}")]
    Gateway6Outside { gateway: Ipv6Addr, subnet: Ipv6Net },
    #[error("it exists with another configuration; remove it first (compose down)")]
    ExistsDifferently,
    #[error("bridge {bridge} is already used by network {other}")]
    BridgeTaken { bridge: String, other: String },
}

impl Attachment {
    pub fn new(network: &str, container: &str) -> Attachment {
        Attachment {
            network: network.to_string(),
            container: container.to_string(),
            aliases: Vec::new(),
            ipv4_address: None,
            ipv6_address: None,
            mac_address: None,
            priority: 0,
        }
    }

    /// The host end of the veth: `vc` + 13 hex digits of (state root
    /// scope, network, container), unique per attachment and ≤ 15
    /// characters.
    pub fn host_ifname(&self, scope: &str) -> String {
        format!("vc{}", self.ifname_hash(scope))
    }

    /// The peer's name while it is still in the host namespace.
    pub fn peer_tmp_ifname(&self, scope: &str) -> String {
        format!("vp{}", self.ifname_hash(scope))
    }

    fn ifname_hash(&self, scope: &str) -> String {
        let key = format!("{}\0{}", self.network, self.container);
        short_hash(&scoped(scope, &key), 13)
    }

    /// The MAC address as bytes, validated.
    pub fn mac(&self) -> Result<Option<[u8; 6]>, NetworkError> {
        let Some(text) = &self.mac_address else {
            return Ok(None);
        };
        parse_mac(text)
            .map(Some)
            .ok_or_else(|| NetworkError::InvalidAttachment {
                network: self.network.clone(),
                container: self.container.clone(),
                reason: format!(
                    "mac_address {text:?} is not of the form aa:bb:cc:dd:ee:ff (unicast)"
                ),
            })
    }

    /// The default route's metric: higher `priority` → lower metric.
    pub fn route_metric(&self) -> u32 {
        (i64::from(i32::MAX) - i64::from(self.priority)) as u32
    }
}

/// True when `addr` is in `net` and neither its network nor broadcast address.
pub fn usable_host(net: Ipv4Net, addr: Ipv4Addr) -> bool {
    net.contains(&addr) && addr != net.network() && addr != net.broadcast()
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(parts) {
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    // The multicast bit would make the kernel refuse the address.
    (mac[0] & 1 == 0).then_some(mac)
}

/// Interface names: 1..=15 bytes, no '/', ':' or whitespace (dev_valid_name
/// in net/core/dev.c).
pub fn validate_ifname(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_IFNAME {
        return Err(format!("{name:?} must be 1 to {MAX_IFNAME} bytes long"));
    }
    if name == "."
        || name == ".."
        || name.contains(|c: char| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(format!("{name:?} contains '/', ':' or whitespace"));
    }
    Ok(())
}

fn scoped(scope: &str, key: &str) -> String {
    if scope.is_empty() {
        key.to_string()
    } else {
        format!("{scope}\0{key}")
    }
}

fn short_hash(text: &str, len: usize) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..len].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_fit_ifnamsiz_and_are_stable() {
        let spec = NetworkSpec::new("a_very_long_project_name_default");
        assert_eq!(spec.bridge("").len(), 15);
        assert_eq!(
            spec.bridge("ab12"),
            NetworkSpec::new("a_very_long_project_name_default").bridge("ab12")
        );
        let att = Attachment::new("n", "c");
        assert_eq!(att.host_ifname("").len(), 15);
        assert_ne!(
            att.host_ifname("")[2..],
            Attachment::new("n", "d").host_ifname("")[2..]
        );
    }

    #[test]
    fn state_roots_get_their_own_interface_names() {
        let (one, two) = (
            scope_for_root(std::path::Path::new("/tmp/root-one")),
            scope_for_root(std::path::Path::new("/tmp/root-two")),
        );
        assert_eq!(one.len(), 8);
        assert_ne!(one, two);
        let spec = NetworkSpec::new("shop_default");
        assert_ne!(spec.bridge(&one), spec.bridge(&two));
        let att = Attachment::new("shop_default", "shop-web-1");
        assert_ne!(att.host_ifname(&one), att.host_ifname(&two));
        assert_ne!(att.peer_tmp_ifname(&one), att.peer_tmp_ifname(&two));
        // The default root keeps the names it always had.
        let default = scope_for_root(std::path::Path::new(
            crate::image::store::DEFAULT_COMPOSE_ROOT,
        ));
        assert_eq!(default, "");
        assert_eq!(
            spec.bridge(""),
            format!("cb-{}", short_hash("shop_default", 12))
        );
        // An explicit bridge name is the user's: never scoped.
        let mut named = spec.clone();
        named.bridge_name = Some("br-shop".into());
        assert_eq!(named.bridge(&one), "br-shop");
    }

    #[test]
    fn validation_names_the_problem() {
        let mut spec = NetworkSpec::new("p_n");
        spec.subnet = Some("10.1.2.3/24".parse().unwrap());
        let err = spec.validate().unwrap_err().to_string();
        assert!(err.contains("did you mean 10.1.2.0/24"), "{err}");
        spec.subnet = Some("10.1.2.0/24".parse().unwrap());
        spec.gateway = Some("10.1.3.1".parse().unwrap());
        assert!(spec
            .validate()
            .unwrap_err()
            .to_string()
            .contains("gateway 10.1.3.1"));
        spec.gateway = None;
        spec.bridge_name = Some("much-too-long-bridge".into());
        assert!(spec
            .validate()
            .unwrap_err()
            .to_string()
            .contains("bridge name"));
        spec.bridge_name = None;
        spec.mtu = Some(10);
        assert!(spec.validate().is_err());
        spec.mtu = Some(1400);
        assert!(spec.validate().is_ok());
    }

    #[test]
    fn mac_and_metric() {
        let mut att = Attachment::new("n", "c");
        att.mac_address = Some("02:42:ac:11:00:02".into());
        assert_eq!(att.mac().unwrap(), Some([2, 0x42, 0xac, 0x11, 0, 2]));
        att.mac_address = Some("01:00:00:00:00:00".into());
        assert!(att.mac().is_err());
        let mut high = Attachment::new("n", "c");
        high.priority = 10;
        assert!(high.route_metric() < att.route_metric());
    }
}
