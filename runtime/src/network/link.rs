//! Links, addresses and routes through rtnetlink. Each call runs on its own
//! thread with a current-thread tokio runtime (so the sync API is safe to
//! call from inside the supervisor's runtime), optionally inside a netns:
//! the netlink socket is opened there, so it talks to that namespace.

use super::error::NetworkError;
use super::netns::on_thread;
use futures_util::TryStreamExt;
use ipnet::Ipv4Net;
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags};
use rtnetlink::packet_route::link::{InfoData, InfoVeth, LinkAttribute, LinkInfo};
use rtnetlink::{Handle, LinkBridge, LinkUnspec, LinkVeth, RouteMessageBuilder};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::path::Path;

const ENODEV: i32 = nix::libc::ENODEV;
const EEXIST: i32 = nix::libc::EEXIST;

/// Run `f` with a netlink handle, in `netns` when given.
pub fn with_netlink<T, F, Fut>(netns: Option<&Path>, what: &str, f: F) -> Result<T, NetworkError>
where
    T: Send,
    F: FnOnce(Handle) -> Fut + Send,
    Fut: Future<Output = Result<T, NetworkError>>,
{
    on_thread(netns, what, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|source| NetworkError::Io {
                path: "tokio runtime".into(),
                source,
            })?;
        rt.block_on(async {
            let (conn, handle, _) =
                rtnetlink::new_connection().map_err(|source| NetworkError::Io {
                    path: "netlink socket".into(),
                    source,
                })?;
            let task = tokio::spawn(conn);
            let out = f(handle).await;
            task.abort();
            out
        })
    })
}

fn nl(op: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> NetworkError {
    let op = op.into();
    move |source| NetworkError::Netlink { op, source }
}

fn errno_of(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(msg) => Some(-msg.raw_code()),
        _ => None,
    }
}

/// The index of the link `name`, `None` when there is none.
pub async fn index_of(handle: &Handle, name: &str) -> Result<Option<u32>, NetworkError> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(link) => Ok(link.map(|l| l.header.index)),
        Err(e) if errno_of(&e) == Some(ENODEV) => Ok(None),
        Err(e) => Err(nl(format!("look up link {name}"))(e)),
    }
}

async fn require_index(handle: &Handle, name: &str) -> Result<u32, NetworkError> {
    index_of(handle, name)
        .await?
        .ok_or_else(|| NetworkError::LinkNotFound {
            name: name.to_string(),
        })
}

/// All link names of the namespace.
pub async fn link_names(handle: &Handle) -> Result<Vec<String>, NetworkError> {
    let mut links = handle.link().get().execute();
    let mut names = Vec::new();
    while let Some(link) = links.try_next().await.map_err(nl("list links"))? {
        for attr in link.attributes {
            if let LinkAttribute::IfName(name) = attr {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// Add `addr/prefix` to a link; already present is fine (idempotent).
/// IPv6 addresses skip duplicate address detection (`nodad`, as Docker's
/// are): the subnet is ours, and DAD would hold the address back ~1 s.
async fn add_address(
    handle: &Handle,
    index: u32,
    addr: IpAddr,
    prefix: u8,
    link: &str,
) -> Result<(), NetworkError> {
    let mut request = handle.address().add(index, addr, prefix);
    if addr.is_ipv6() {
        request
            .message_mut()
            .attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    match request.execute().await {
        Err(e) if errno_of(&e) == Some(EEXIST) => Ok(()),
        other => other.map_err(nl(format!("add {addr}/{prefix} to {link}"))),
    }
}

/// Create (or reuse) bridge `name` with the gateway address, and set it up.
pub async fn ensure_bridge(
    handle: &Handle,
    name: &str,
    mtu: Option<u32>,
    gateway: Ipv4Addr,
    subnet: Ipv4Net,
    ipv6: Option<(Ipv6Addr, u8)>,
) -> Result<(), NetworkError> {
    if index_of(handle, name).await?.is_none() {
        let mut msg = LinkBridge::new(name);
        if let Some(mtu) = mtu {
            msg = msg.mtu(mtu);
        }
        handle
            .link()
            .add(msg.build())
            .execute()
            .await
            .map_err(nl(format!("create bridge {name}")))?;
    }
    let index = require_index(handle, name).await?;
    add_address(handle, index, gateway.into(), subnet.prefix_len(), name).await?;
    if let Some((gateway6, prefix)) = ipv6 {
        add_address(handle, index, gateway6.into(), prefix, name).await?;
    }
    set_up(handle, index, name).await
}

async fn set_up(handle: &Handle, index: u32, name: &str) -> Result<(), NetworkError> {
    let msg = LinkUnspec::new_with_index(index).up().build();
    handle
        .link()
        .set(msg)
        .execute()
        .await
        .map_err(nl(format!("set {name} up")))
}

/// Delete link `name`; a missing link is no error (teardown is idempotent).
pub async fn delete_link(handle: &Handle, name: &str) -> Result<(), NetworkError> {
    let Some(index) = index_of(handle, name).await? else {
        return Ok(());
    };
    match handle.link().del(index).execute().await {
        Err(e) if errno_of(&e) == Some(ENODEV) => Ok(()),
        other => other.map_err(nl(format!("delete link {name}"))),
    }
}

/// Create the veth pair `host`/`peer` in one request: `host` on `bridge`
/// and up, `peer` made directly inside the namespace open as `netns`.
/// (Moving a made link into a namespace waits for an RCU grace period,
/// ~15 ms a container; creating it there does not.)
pub async fn create_veth(
    handle: &Handle,
    host: &str,
    peer: &str,
    bridge: &str,
    mtu: Option<u32>,
    netns: &std::fs::File,
) -> Result<(), NetworkError> {
    let bridge_index = require_index(handle, bridge).await?;
    let mut builder = LinkVeth::new(host, peer).controller(bridge_index).up();
    if let Some(mtu) = mtu {
        builder = builder.mtu(mtu);
    }
    let mut msg = builder.build();
    for attr in &mut msg.attributes {
        let LinkAttribute::LinkInfo(infos) = attr else {
            continue;
        };
        for info in infos {
            if let LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))) = info {
                peer_msg
                    .attributes
                    .push(LinkAttribute::NetNsFd(netns.as_raw_fd()));
            }
        }
    }
    handle
        .link()
        .add(msg)
        .execute()
        .await
        .map_err(nl(format!("create veth {host} on {bridge}")))
}

/// What the container's interface gets.
pub struct InterfaceConfig<'a> {
    pub tmp_name: &'a str,
    pub mac: Option<[u8; 6]>,
    /// The network's MTU (a veth's peer does not inherit it).
    pub mtu: Option<u32>,
    pub address: Ipv4Addr,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub route_metric: u32,
    /// Address, prefix length and gateway on a network with IPv6.
    pub ipv6: Option<(Ipv6Addr, u8, Ipv6Addr)>,
}

/// Inside the container's namespace: rename the moved peer to the first
/// free `ethN`, set MAC, address, up, and a default route via the gateway.
/// Returns the interface name.
pub async fn configure_in_container(
    handle: &Handle,
    cfg: &InterfaceConfig<'_>,
) -> Result<String, NetworkError> {
    let names = link_names(handle).await?;
    let ifname = (0..)
        .map(|n| format!("eth{n}"))
        .find(|n| !names.contains(n))
        .unwrap_or_default();
    let index = require_index(handle, cfg.tmp_name).await?;
    let mut msg = LinkUnspec::new_with_index(index).name(ifname.clone());
    if let Some(mac) = cfg.mac {
        msg = msg.address(mac.to_vec());
    }
    if let Some(mtu) = cfg.mtu {
        msg = msg.mtu(mtu);
    }
    handle
        .link()
        .set(msg.build())
        .execute()
        .await
        .map_err(nl(format!("rename {} to {ifname}", cfg.tmp_name)))?;
    add_address(
        handle,
        index,
        cfg.address.into(),
        cfg.subnet.prefix_len(),
        &ifname,
    )
    .await?;
    if let Some((addr, prefix, _)) = cfg.ipv6 {
        add_address(handle, index, addr.into(), prefix, &ifname).await?;
    }
    set_up(handle, index, &ifname).await?;
    if let Some((_, _, gateway6)) = cfg.ipv6 {
        let route = RouteMessageBuilder::<Ipv6Addr>::new()
            .gateway(gateway6)
            .output_interface(index)
            .priority(cfg.route_metric)
            .build();
        match handle.route().add(route).execute().await {
            Err(e) if errno_of(&e) == Some(EEXIST) => {}
            other => other.map_err(nl(format!("default IPv6 route via {gateway6}")))?,
        }
    }
    let route = RouteMessageBuilder::<Ipv4Addr>::new()
        .gateway(cfg.gateway)
        .output_interface(index)
        .priority(cfg.route_metric)
        .build();
    match handle.route().add(route).execute().await {
        Err(e) if errno_of(&e) == Some(EEXIST) => Ok(ifname),
        other => other
            .map(|_| ifname.clone())
            .map_err(nl(format!("default route via {}", cfg.gateway))),
    }
}
