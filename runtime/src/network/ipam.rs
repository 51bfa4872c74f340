//! IPAM: which subnet each network has and which address each container
//! holds on it. The pure allocation rules are here; `store` keeps them in
//! `$COMPOSE_ROOT/networks/ipam.json` under a file lock.

use super::error::NetworkError;
use super::spec::{usable_host, NetworkSpec};
use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Where pool subnets come from (podman's default pool is 10.89.0.0/16 too).
pub const DEFAULT_POOL: &str = "10.89.0.0/16";
/// The size of a pool subnet.
pub const POOL_PREFIX: u8 = 24;

/// Every network of the machine (under one COMPOSE_ROOT).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpamState {
    pub networks: BTreeMap<String, NetworkRecord>,
}

/// One created network: its spec and what IPAM decided for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRecord {
    pub spec: NetworkSpec,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub bridge: String,
    /// container name → its address on this network.
    #[serde(default)]
    pub leases: BTreeMap<String, Ipv4Addr>,
    /// The IPv6 side of a network with `enable_ipv6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Block>,
}

/// A network's IPv6 subnet, gateway and leases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ipv6Block {
    pub subnet: Ipv6Net,
    pub gateway: Ipv6Addr,
    #[serde(default)]
    pub leases: BTreeMap<String, Ipv6Addr>,
}

impl NetworkRecord {
    /// The range dynamic addresses come from.
    pub fn range(&self) -> Ipv4Net {
        self.spec.ip_range.unwrap_or(self.subnet)
    }
}

impl IpamState {
    /// Decide subnet and gateway for a validated spec whose bridge is
    /// named `bridge`. `host_routes` are the host's routes (a pool subnet
    /// never overlaps one).
    pub fn allocate_network(
        &mut self,
        spec: &NetworkSpec,
        bridge: &str,
        host_routes: &[Ipv4Net],
        pool: Ipv4Net,
    ) -> Result<&NetworkRecord, NetworkError> {
        let subnet = match spec.subnet {
            Some(subnet) => {
                if let Some((other, rec)) = self.overlapping(subnet, &spec.name) {
                    return Err(NetworkError::SubnetOverlap {
                        network: spec.name.clone(),
                        subnet,
                        other: other.to_string(),
                        other_subnet: rec.subnet,
                    });
                }
                subnet
            }
            None => self.free_pool_subnet(spec, host_routes, pool)?,
        };
        let gateway = spec
            .gateway
            .unwrap_or_else(|| Ipv4Addr::from(u32::from(subnet.network()) + 1));
        let record = NetworkRecord {
            spec: spec.clone(),
            subnet,
            gateway,
            bridge: bridge.to_string(),
            leases: BTreeMap::new(),
            ipv6: None,
        };
        self.networks.insert(spec.name.clone(), record);
        Ok(&self.networks[&spec.name])
    }

    fn overlapping(&self, subnet: Ipv4Net, except: &str) -> Option<(&str, &NetworkRecord)> {
        self.networks
            .iter()
            .find(|(name, rec)| name.as_str() != except && overlaps(rec.subnet, subnet))
            .map(|(name, rec)| (name.as_str(), rec))
    }

    fn free_pool_subnet(
        &self,
        spec: &NetworkSpec,
        host_routes: &[Ipv4Net],
        pool: Ipv4Net,
    ) -> Result<Ipv4Net, NetworkError> {
        let candidates = pool
            .subnets(POOL_PREFIX.max(pool.prefix_len()))
            .map_err(|_| NetworkError::PoolExhausted {
                network: spec.name.clone(),
                pool,
            })?;
        candidates
            .filter(|c| !host_routes.iter().any(|r| overlaps(*r, *c)))
            .find(|c| self.overlapping(*c, &spec.name).is_none())
            .ok_or(NetworkError::PoolExhausted {
                network: spec.name.clone(),
                pool,
            })
    }

    /// Lease an address on `network` for `container`: the requested one, or
    /// the lowest free one in the range. Leasing twice returns the lease.
    pub fn lease(
        &mut self,
        network: &str,
        container: &str,
        requested: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr, NetworkError> {
        let rec = self
            .networks
            .get_mut(network)
            .ok_or_else(|| NetworkError::UnknownNetwork {
                network: network.to_string(),
            })?;
        if let Some(addr) = rec.leases.get(container) {
            if requested.is_none() || requested == Some(*addr) {
                return Ok(*addr);
            }
        }
        let taken = |rec: &NetworkRecord, addr: Ipv4Addr| {
            addr == rec.gateway
                || rec.spec.aux_addresses.values().any(|a| *a == addr)
                || rec
                    .leases
                    .iter()
                    .any(|(holder, a)| *a == addr && holder != container)
        };
        let addr = match requested {
            Some(addr) => {
                if !usable_host(rec.subnet, addr) || addr == rec.gateway {
                    return Err(NetworkError::AddressOutsideRange {
                        network: network.to_string(),
                        address: addr,
                        range: rec.subnet,
                    });
                }
                let aux = rec.spec.aux_addresses.iter().find(|(_, a)| **a == addr);
                if let Some((host, _)) = aux {
                    return Err(NetworkError::AddressInUse {
                        network: network.to_string(),
                        address: addr,
                        holder: format!("aux_addresses.{host}"),
                    });
                }
                if let Some((holder, _)) = rec
                    .leases
                    .iter()
                    .find(|(h, a)| **a == addr && *h != container)
                {
                    return Err(NetworkError::AddressInUse {
                        network: network.to_string(),
                        address: addr,
                        holder: holder.clone(),
                    });
                }
                addr
            }
            None => rec
                .range()
                .hosts()
                .find(|a| usable_host(rec.subnet, *a) && !taken(rec, *a))
                .ok_or(NetworkError::NoFreeAddress {
                    network: network.to_string(),
                    range: rec.range(),
                })?,
        };
        rec.leases.insert(container.to_string(), addr);
        Ok(addr)
    }

    /// Give an address back (both families); unknown networks or leases
    /// are no error.
    pub fn release(&mut self, network: &str, container: &str) -> Option<Ipv4Addr> {
        let rec = self.networks.get_mut(network)?;
        if let Some(v6) = &mut rec.ipv6 {
            v6.leases.remove(container);
        }
        rec.leases.remove(container)
    }

    /// Give `network` (already allocated, with `spec.ipv6`) its IPv6
    /// subnet: the spec's, else a ULA /64 (`fd` + 40 bits of the name's
    /// SHA-256, RFC 4193's random global ID made stable) whose subnet ID
    /// counts up past host routes and other networks.
    pub fn allocate_ipv6(
        &mut self,
        network: &str,
        host_routes: &[Ipv6Net],
    ) -> Result<(), NetworkError> {
        let Some(rec) = self.networks.get(network) else {
            return Err(NetworkError::UnknownNetwork {
                network: network.to_string(),
            });
        };
        if !rec.spec.ipv6 {
            return Ok(());
        }
        let taken = |net: Ipv6Net| {
            host_routes.iter().any(|r| overlaps6(*r, net))
                || self.networks.iter().any(|(name, other)| {
                    name != network
                        && other
                            .ipv6
                            .as_ref()
                            .is_some_and(|b| overlaps6(b.subnet, net))
                })
        };
        let subnet = match rec.spec.subnet6 {
            Some(subnet) => {
                if let Some((other, b)) = self.networks.iter().find_map(|(name, o)| {
                    let b = o.ipv6.as_ref()?;
                    (name != network && overlaps6(b.subnet, subnet)).then_some((name, b))
                }) {
                    return Err(NetworkError::Subnet6Overlap {
                        network: network.to_string(),
                        subnet,
                        other: other.clone(),
                        other_subnet: b.subnet,
                    });
                }
                subnet
            }
            None => (0..=u16::MAX)
                .map(|id| ula_subnet(network, id))
                .find(|net| !taken(*net))
                .ok_or(NetworkError::Pool6Exhausted {
                    network: network.to_string(),
                })?,
        };
        let gateway = rec
            .spec
            .gateway6
            .unwrap_or_else(|| Ipv6Addr::from(u128::from(subnet.network()) + 1));
        let rec = self.networks.get_mut(network).expect("looked up above");
        rec.ipv6 = Some(Ipv6Block {
            subnet,
            gateway,
            leases: BTreeMap::new(),
        });
        Ok(())
    }

    /// Lease an IPv6 address on `network` for `container` (the requested
    /// one, else the lowest free one); `None` when the network has no IPv6.
    pub fn lease6(
        &mut self,
        network: &str,
        container: &str,
        requested: Option<Ipv6Addr>,
    ) -> Result<Option<Ipv6Addr>, NetworkError> {
        let Some(block) = self.networks.get_mut(network).and_then(|r| r.ipv6.as_mut()) else {
            return Ok(None);
        };
        if let Some(addr) = block.leases.get(container) {
            if requested.is_none() || requested == Some(*addr) {
                return Ok(Some(*addr));
            }
        }
        let holder = |addr: Ipv6Addr| {
            block
                .leases
                .iter()
                .find(|(h, a)| **a == addr && h.as_str() != container)
                .map(|(h, _)| h.clone())
        };
        let addr = match requested {
            Some(addr) => {
                if !block.subnet.contains(&addr)
                    || addr == block.subnet.network()
                    || addr == block.gateway
                {
                    return Err(NetworkError::Address6OutsideRange {
                        network: network.to_string(),
                        address: addr,
                        subnet: block.subnet,
                    });
                }
                if let Some(holder) = holder(addr) {
                    return Err(NetworkError::Address6InUse {
                        network: network.to_string(),
                        address: addr,
                        holder,
                    });
                }
                addr
            }
            None => {
                let first = u128::from(block.subnet.network()) + 1;
                let last = u128::from(block.subnet.broadcast());
                (first..=last)
                    .map(Ipv6Addr::from)
                    .find(|a| *a != block.gateway && holder(*a).is_none())
                    .ok_or(NetworkError::Pool6Exhausted {
                        network: network.to_string(),
                    })?
            }
        };
        block.leases.insert(container.to_string(), addr);
        Ok(Some(addr))
    }
}

/// The ULA /64 number `id` of `network`.
pub fn ula_subnet(network: &str, id: u16) -> Ipv6Net {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(network.as_bytes());
    let mut bytes = [0u8; 16];
    bytes[0] = 0xfd;
    bytes[1..6].copy_from_slice(&digest[..5]);
    bytes[6..8].copy_from_slice(&id.to_be_bytes());
    Ipv6Net::new(Ipv6Addr::from(bytes), 64).expect("/64 is a valid prefix")
}

/// Two IPv6 prefixes overlap when one contains the other's network address.
pub fn overlaps6(a: Ipv6Net, b: Ipv6Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The host's IPv6 routes from /proc/net/ipv6_route, except default
/// routes and link-local ones (every interface has fe80::/64).
pub fn parse_proc_net_ipv6_route(text: &str) -> Vec<Ipv6Net> {
    text.lines()
        .filter_map(|line| {
            let mut cols = line.split_whitespace();
            let dest = u128::from_str_radix(cols.next()?, 16).ok()?;
            let prefix = u8::from_str_radix(cols.next()?, 16).ok()?;
            let net = Ipv6Net::new(Ipv6Addr::from(dest), prefix).ok()?;
            let link_local: Ipv6Net = "fe80::/10".parse().expect("valid prefix");
            let multicast: Ipv6Net = "ff00::/8".parse().expect("valid prefix");
            (prefix > 0 && !overlaps6(net, link_local) && !overlaps6(net, multicast)).then_some(net)
        })
        .collect()
}

/// Two prefixes overlap when one contains the other's network address.
pub fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The host's IPv4 routes from /proc/net/route (little-endian hex), except
/// default routes, which overlap everything.
pub fn parse_proc_net_route(text: &str) -> Vec<Ipv4Net> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let dest = u32::from_str_radix(cols.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(cols.get(7)?, 16).ok()?;
            let prefix = mask.swap_bytes().leading_ones() as u8;
            let net = Ipv4Net::new(Ipv4Addr::from(dest.swap_bytes()), prefix).ok()?;
            (prefix > 0).then_some(net)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_subnets_are_stable_ulas_that_skip_routes_and_other_networks() {
        let mut state = IpamState::default();
        let pool = net(DEFAULT_POOL);
        let mut a = NetworkSpec::new("a");
        a.ipv6 = true;
        state.allocate_network(&a, "br-test", &[], pool).unwrap();
        let first = ula_subnet("a", 0);
        assert_eq!(first.to_string().get(..2), Some("fd"));
        assert_eq!(first.prefix_len(), 64);
        state.allocate_ipv6("a", &[first]).unwrap();
        let block = state.networks["a"].ipv6.clone().unwrap();
        assert_eq!(
            block.subnet,
            ula_subnet("a", 1),
            "the host route is skipped"
        );
        assert_eq!(
            block.gateway,
            Ipv6Addr::from(u128::from(block.subnet.network()) + 1)
        );
        let x = state.lease6("a", "x", None).unwrap().unwrap();
        assert_eq!(u128::from(x), u128::from(block.gateway) + 1);
        assert_eq!(state.lease6("a", "x", None).unwrap(), Some(x), "idempotent");
        let err = state.lease6("a", "y", Some(x)).unwrap_err();
        assert!(err.to_string().contains("already used by x"), "{err}");
        let err = state.lease6("a", "y", Some(block.gateway)).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        state.release("a", "x");
        assert_eq!(state.lease6("a", "y", Some(x)).unwrap(), Some(x));
        // A network without IPv6 leases none.
        state
            .allocate_network(&NetworkSpec::new("b"), "br-test", &[], pool)
            .unwrap();
        state.allocate_ipv6("b", &[]).unwrap();
        assert_eq!(state.lease6("b", "x", None).unwrap(), None);
        // An explicit subnet may not overlap another network's.
        let mut c = NetworkSpec::new("c");
        c.ipv6 = true;
        c.subnet6 = Some(block.subnet);
        state.allocate_network(&c, "br-test", &[], pool).unwrap();
        let err = state.allocate_ipv6("c", &[]).unwrap_err();
        assert!(err.to_string().contains("overlaps network a's"), "{err}");
    }

    #[test]
    fn ipv6_routes_skip_default_link_local_and_multicast() {
        let text = "\
fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
";
        assert_eq!(
            parse_proc_net_ipv6_route(text),
            ["fd00::/64".parse::<Ipv6Net>().unwrap()]
        );
    }

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn pool_skips_host_routes_and_other_networks() {
        let mut state = IpamState::default();
        let pool = net(DEFAULT_POOL);
        let routes = vec![net("10.89.0.0/23")];
        let a = state
            .allocate_network(&NetworkSpec::new("a"), "br-test", &routes, pool)
            .unwrap();
        assert_eq!(
            (a.subnet, a.gateway),
            (net("10.89.2.0/24"), "10.89.2.1".parse().unwrap())
        );
        let b = state
            .allocate_network(&NetworkSpec::new("b"), "br-test", &routes, pool)
            .unwrap();
        assert_eq!(b.subnet, net("10.89.3.0/24"));
        let mut c = NetworkSpec::new("c");
        c.subnet = Some(net("10.89.3.128/25"));
        let err = state
            .allocate_network(&c, "br-test", &routes, pool)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("overlaps network b's 10.89.3.0/24"),
            "{err}"
        );
        let tiny = net("10.89.2.0/23");
        assert!(matches!(
            state.allocate_network(&NetworkSpec::new("d"), "br-test", &routes, tiny),
            Err(NetworkError::PoolExhausted { .. })
        ));
    }

    #[test]
    fn leases_skip_gateway_and_taken_and_honour_requests() {
        let mut state = IpamState::default();
        let mut spec = NetworkSpec::new("n");
        spec.subnet = Some(net("172.30.0.0/29"));
        state
            .allocate_network(&spec, "br-test", &[], net(DEFAULT_POOL))
            .unwrap();
        assert_eq!(
            state.lease("n", "c1", None).unwrap(),
            Ipv4Addr::new(172, 30, 0, 2)
        );
        assert_eq!(
            state.lease("n", "c1", None).unwrap(),
            Ipv4Addr::new(172, 30, 0, 2)
        );
        assert_eq!(
            state
                .lease("n", "c2", Some(Ipv4Addr::new(172, 30, 0, 6)))
                .unwrap(),
            Ipv4Addr::new(172, 30, 0, 6)
        );
        let err = state
            .lease("n", "c3", Some(Ipv4Addr::new(172, 30, 0, 6)))
            .unwrap_err();
        assert!(err.to_string().contains("already used by c2"), "{err}");
        assert!(state
            .lease("n", "c3", Some(Ipv4Addr::new(172, 30, 0, 7)))
            .is_err());
        for c in ["c3", "c4", "c5"] {
            state.lease("n", c, None).unwrap();
        }
        assert!(matches!(
            state.lease("n", "c6", None),
            Err(NetworkError::NoFreeAddress { .. })
        ));
        assert_eq!(state.release("n", "c1"), Some(Ipv4Addr::new(172, 30, 0, 2)));
        assert_eq!(
            state.lease("n", "c6", None).unwrap(),
            Ipv4Addr::new(172, 30, 0, 2)
        );
    }

    #[test]
    fn proc_net_route_is_parsed_without_default_routes() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
br0\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        assert_eq!(
            parse_proc_net_route(text),
            vec![net("192.168.2.0/24"), net("10.89.0.0/16")]
        );
    }
}
