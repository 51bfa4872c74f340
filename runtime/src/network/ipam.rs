//! IPAM: which subnet each network has and which address each container
//! holds on it. The pure allocation rules are here; `store` keeps them in
//! `$COMPOSE_ROOT/networks/ipam.json` under a file lock.

use super::error::NetworkError;
use super::spec::{usable_host, NetworkSpec};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

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
}

impl NetworkRecord {
    /// The range dynamic addresses come from.
    pub fn range(&self) -> Ipv4Net {
        self.spec.ip_range.unwrap_or(self.subnet)
    }
}

impl IpamState {
    /// Decide subnet and gateway for a validated spec. `host_routes` are the
    /// host's routes (a pool subnet never overlaps one).
    pub fn allocate_network(
        &mut self,
        spec: &NetworkSpec,
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
            bridge: spec.bridge(),
            leases: BTreeMap::new(),
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

    /// Give an address back; unknown networks or leases are no error.
    pub fn release(&mut self, network: &str, container: &str) -> Option<Ipv4Addr> {
        self.networks.get_mut(network)?.leases.remove(container)
    }
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

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn pool_skips_host_routes_and_other_networks() {
        let mut state = IpamState::default();
        let pool = net(DEFAULT_POOL);
        let routes = vec![net("10.89.0.0/23")];
        let a = state
            .allocate_network(&NetworkSpec::new("a"), &routes, pool)
            .unwrap();
        assert_eq!(
            (a.subnet, a.gateway),
            (net("10.89.2.0/24"), "10.89.2.1".parse().unwrap())
        );
        let b = state
            .allocate_network(&NetworkSpec::new("b"), &routes, pool)
            .unwrap();
        assert_eq!(b.subnet, net("10.89.3.0/24"));
        let mut c = NetworkSpec::new("c");
        c.subnet = Some(net("10.89.3.128/25"));
        let err = state.allocate_network(&c, &routes, pool).unwrap_err();
        assert!(
            err.to_string()
                .contains("overlaps network b's 10.89.3.0/24"),
            "{err}"
        );
        let tiny = net("10.89.2.0/23");
        assert!(matches!(
            state.allocate_network(&NetworkSpec::new("d"), &routes, tiny),
            Err(NetworkError::PoolExhausted { .. })
        ));
    }

    #[test]
    fn leases_skip_gateway_and_taken_and_honour_requests() {
        let mut state = IpamState::default();
        let mut spec = NetworkSpec::new("n");
        spec.subnet = Some(net("172.30.0.0/29"));
        state
            .allocate_network(&spec, &[], net(DEFAULT_POOL))
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
