//! The network layer's errors: one enum, each variant naming the network,
//! container, path or port it is about.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("network {network}: {problem}")]
    InvalidSpec {
        network: String,
        problem: super::spec::SpecProblem,
    },
    #[error("network {network}, container {container}: {reason}")]
    InvalidAttachment {
        network: String,
        container: String,
        reason: String,
    },
    #[error("network {network} not found (create it first)")]
    UnknownNetwork { network: String },
    #[error("network {network}: subnet {subnet} overlaps network {other}'s {other_subnet}; choose another subnet")]
    SubnetOverlap {
        network: String,
        subnet: ipnet::Ipv4Net,
        other: String,
        other_subnet: ipnet::Ipv4Net,
    },
    #[error("network {network}: no free /24 left in the pool {pool} (every one overlaps a host route or another network); set an explicit subnet")]
    PoolExhausted {
        network: String,
        pool: ipnet::Ipv4Net,
    },
    #[error("network {network}: address {address} is already used by {holder}")]
    AddressInUse {
        network: String,
        address: Ipv4Addr,
        holder: String,
    },
    #[error("network {network}: address {address} is outside {range} or reserved (network, gateway, broadcast)")]
    AddressOutsideRange {
        network: String,
        address: Ipv4Addr,
        range: ipnet::Ipv4Net,
    },
    #[error("network {network}: no free address left in {range}")]
    NoFreeAddress {
        network: String,
        range: ipnet::Ipv4Net,
    },
    #[error("network {network}: IPv6 subnet {subnet} overlaps network {other}'s {other_subnet}; choose another subnet")]
    Subnet6Overlap {
        network: String,
        subnet: ipnet::Ipv6Net,
        other: String,
        other_subnet: ipnet::Ipv6Net,
    },
    #[error("network {network}: no free IPv6 subnet or address left; set an explicit IPv6 subnet")]
    Pool6Exhausted { network: String },
    #[error("network {network}: IPv6 address {address} is already used by {holder}")]
    Address6InUse {
        network: String,
        address: std::net::Ipv6Addr,
        holder: String,
    },
    #[error("network {network}: IPv6 address {address} is outside {subnet} or reserved (network, gateway)")]
    Address6OutsideRange {
        network: String,
        address: std::net::Ipv6Addr,
        subnet: ipnet::Ipv6Net,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid network state: {source}")]
    State {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("netlink: {op}: {source}")]
    Netlink {
        op: String,
        #[source]
        source: rtnetlink::Error,
    },
    #[error("link {name} does not exist")]
    LinkNotFound { name: String },
    #[error("network namespace {path}: {op}: {source}")]
    Netns {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("nft -f - failed ({status}): {stderr}")]
    Nft { status: String, stderr: String },
    #[error("{what}: the worker thread panicked")]
    ThreadPanicked { what: String },
    #[error(
        "port {addr} ({proto}) is already in use on the host{}; free it or publish another port",
        held(holder)
    )]
    PortInUse {
        addr: SocketAddr,
        proto: &'static str,
        /// `pid 1234 (nginx)`, or another service of the project, when known.
        holder: Option<String>,
        #[source]
        source: std::io::Error,
    },
    #[error("every port of {host_ip}:{first}-{last} ({proto}) is already in use on the host; free one or publish another range")]
    PortRangeInUse {
        host_ip: std::net::IpAddr,
        first: u16,
        last: u16,
        proto: &'static str,
    },
    #[error("cannot listen on {addr} ({proto}): {source}")]
    Listen {
        addr: SocketAddr,
        proto: &'static str,
        #[source]
        source: std::io::Error,
    },
}

fn held(holder: &Option<String>) -> String {
    holder
        .as_ref()
        .map_or(String::new(), |h| format!(" (held by {h})"))
}

impl NetworkError {
    /// The kernel said the object exists already (EEXIST).
    pub fn is_exists(&self) -> bool {
        match self {
            NetworkError::Netlink {
                source: rtnetlink::Error::NetlinkError(msg),
                ..
            } => -msg.raw_code() == nix::libc::EEXIST,
            _ => false,
        }
    }
}

/// Everything that went wrong during a teardown: teardown never stops at
/// the first error (netavark's teardown collects them all).
#[derive(Debug, thiserror::Error)]
#[error("teardown failed with {} error(s): {}", .errors.len(), list(.errors))]
pub struct TeardownError {
    pub errors: Vec<NetworkError>,
}

fn list(errors: &[NetworkError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl TeardownError {
    /// `Ok` when nothing failed.
    pub fn check(errors: Vec<NetworkError>) -> Result<(), TeardownError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(TeardownError { errors })
        }
    }
}
