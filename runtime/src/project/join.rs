//! A container on project networks, at start: its own network namespace,
//! one interface per network, and the files and variables that depend on
//! the addresses it got (/etc/hosts, Docker's link variables), and its
//! /etc/resolv.conf pointing at its own DNS server on 127.0.0.11.

use super::{ContainerRecord, ProjectDir, ProjectError};
use crate::container::spec::NetworkMode;
use crate::container::ContainerSpec;
use crate::network::dns::resolv::container_resolv_conf;
use crate::network::{Attached, ExposedPort, Link, NetworkError, Networks};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The network layer of the project's COMPOSE_ROOT.
pub fn networks(project: &ProjectDir) -> Networks {
    Networks::new(project.root())
}

/// Give `record`'s container its namespace and interfaces, and make `spec`
/// join them. On failure nothing is left attached.
pub fn join(
    project: &ProjectDir,
    record: &ContainerRecord,
    spec: &mut ContainerSpec,
) -> Result<(), ProjectError> {
    let networks = networks(project);
    // What a container that died with its supervisor left behind.
    let _ = networks.teardown_container(&record.name);
    let err = |source: NetworkError| match source {
        NetworkError::UnknownNetwork { network } => {
            ProjectError::ExternalNetworkMissing { network }
        }
        source => ProjectError::Network {
            container: record.name.clone(),
            source,
        },
    };
    let path = networks.create_netns(&record.name).map_err(err)?;
    let mut attached = Vec::new();
    for att in &record.networks {
        match networks.attach(att, &path) {
            Ok(a) => attached.push(a),
            Err(e) => {
                let _ = networks.teardown_container(&record.name);
                return Err(err(e));
            }
        }
    }
    let links = match link_env(project, &networks, record) {
        Ok(vars) => vars,
        Err(e) => {
            let _ = networks.teardown_container(&record.name);
            return Err(e);
        }
    };
    spec.network = NetworkMode::Join { path };
    spec.etc.hosts = hosts(spec, &attached);
    // The container's own server (127.0.0.11 in its namespace, bound by
    // the supervisor before the workload runs) answers the names it may
    // see and forwards the rest (to the service's `dns` servers when it
    // has some), as Docker's embedded server on user-defined networks.
    spec.etc.resolv_conf = container_resolv_conf(&record.dns.search, &record.dns.options);
    // Link variables come first: the service's own `environment` wins.
    let mut env = links;
    env.append(&mut spec.process.env);
    spec.process.env = env;
    Ok(())
}

/// A container in another one's namespace (`network_mode: service:` or
/// `container:` of this project) without `dns` settings of its own gets
/// that container's resolv.conf, as Docker shares the joined container's:
/// the DNS server on 127.0.0.11 in that namespace answers it. Anything
/// else keeps its file (the host's for `network_mode: host`).
pub fn share_resolv_conf(project: &ProjectDir, spec: &mut ContainerSpec) {
    let NetworkMode::Join { path } = &spec.network else {
        return;
    };
    let Some(target) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let ours = crate::network::netns::netns_path(project.root(), target) == *path;
    if !ours || !spec.etc.resolv_conf.is_empty() {
        return;
    }
    let file = project.container_dir(target).join("resolv.conf");
    if let Ok(text) = std::fs::read_to_string(file) {
        spec.etc.resolv_conf = text;
    }
}

/// Release what [`join`] made: the interfaces, addresses and namespace.
pub fn leave(project: &ProjectDir, name: &str) -> Result<(), ProjectError> {
    networks(project)
        .teardown_container(name)
        .map_err(|source| ProjectError::NetworkTeardown {
            container: name.to_string(),
            source,
        })
}

/// The runtime's default /etc/hosts entries (Docker's).
const LOOPBACK_HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// /etc/hosts: the loopback entries (and `extra_hosts`) the spec carries,
/// then the container's own address on its first network with its
/// hostname, as Docker writes it.
fn hosts(spec: &ContainerSpec, attached: &[Attached]) -> String {
    let mut out = if spec.etc.hosts.is_empty() {
        LOOPBACK_HOSTS.to_string()
    } else {
        spec.etc.hosts.clone()
    };
    if let Some(first) = attached.first() {
        // With a domainname Docker writes the FQDN first, so that
        // `hostname -f` / `hostname -d` find it.
        let names = if spec.domainname.is_empty() {
            spec.hostname.clone()
        } else {
            format!("{0}.{1} {0}", spec.hostname, spec.domainname)
        };
        out.push_str(&format!("{}\t{names}\n", first.address));
    }
    out
}

/// Docker's legacy link variables for every `links:` entry whose container
/// shares a network with this one.
fn link_env(
    project: &ProjectDir,
    networks: &Networks,
    record: &ContainerRecord,
) -> Result<Vec<String>, ProjectError> {
    if record.links.is_empty() {
        return Ok(Vec::new());
    }
    let mut vars = Vec::new();
    for link in &record.links {
        let dir = project.container_dir(&link.container);
        let Ok(target) = ContainerRecord::read(&dir) else {
            continue;
        };
        let Some(address) = shared_address(networks, record, &link.container)? else {
            continue;
        };
        vars.extend(link_vars(&record.name, link, &target, address));
    }
    Ok(vars)
}

/// The linked container's address on the first network both are on.
fn shared_address(
    networks: &Networks,
    record: &ContainerRecord,
    target: &str,
) -> Result<Option<Ipv4Addr>, ProjectError> {
    for att in &record.networks {
        let rec = networks
            .get(&att.network)
            .map_err(|source| ProjectError::Network {
                container: record.name.clone(),
                source,
            })?;
        if let Some(addr) = rec.and_then(|r| r.leases.get(target).copied()) {
            return Ok(Some(addr));
        }
    }
    Ok(None)
}

/// `DB_PORT=tcp://10.89.0.3:5432`, `DB_PORT_5432_TCP_ADDR=10.89.0.3`, ...,
/// `DB_NAME=/<consumer>/db`, `DB_ENV_<VAR>=...` (Docker's `links.go`
/// names; HOME and PATH of the linked container are left out as there).
pub fn link_vars(
    consumer: &str,
    link: &Link,
    target: &ContainerRecord,
    address: Ipv4Addr,
) -> Vec<String> {
    let alias = link.alias.replace('-', "_").to_ascii_uppercase();
    let mut ports: Vec<ExposedPort> = target.exposed.clone();
    ports.sort_by_key(|p| (p.port, p.protocol));
    ports.dedup();
    let mut vars = Vec::new();
    if let Some(p) = ports.first() {
        vars.push(format!(
            "{alias}_PORT={}://{address}:{}",
            p.protocol, p.port
        ));
    }
    for p in &ports {
        let prefix = format!(
            "{alias}_PORT_{}_{}",
            p.port,
            p.protocol.as_str().to_ascii_uppercase()
        );
        vars.push(format!("{prefix}={}://{address}:{}", p.protocol, p.port));
        vars.push(format!("{prefix}_ADDR={address}"));
        vars.push(format!("{prefix}_PORT={}", p.port));
        vars.push(format!("{prefix}_PROTO={}", p.protocol));
    }
    vars.push(format!("{alias}_NAME=/{consumer}/{}", link.alias));
    let env: BTreeMap<&str, &str> = target
        .spec
        .process
        .env
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| !matches!(*k, "HOME" | "PATH"))
        .collect();
    for (k, v) in env {
        vars.push(format!("{alias}_ENV_{k}={v}"));
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::netns::netns_path;

    #[test]
    fn a_shared_namespace_takes_its_owners_resolv_conf_unless_it_has_its_own() {
        let root = tempfile::tempdir().unwrap();
        let project = ProjectDir::new(root.path(), "p");
        let owner = project.container_dir("p-b-1");
        std::fs::create_dir_all(&owner).unwrap();
        let text = "nameserver 127.0.0.11\noptions ndots:0\n";
        std::fs::write(owner.join("resolv.conf"), text).unwrap();
        let spec_in = |network: NetworkMode| {
            let mut spec = ContainerSpec::new("p-c-1", vec![], vec!["true".into()]);
            spec.network = network;
            spec
        };
        let mut shared = spec_in(NetworkMode::Join {
            path: netns_path(root.path(), "p-b-1"),
        });
        share_resolv_conf(&project, &mut shared);
        assert_eq!(shared.etc.resolv_conf, text);

        let mut own = shared.clone();
        own.etc.resolv_conf = "nameserver 192.0.2.53\n".into();
        share_resolv_conf(&project, &mut own);
        assert_eq!(own.etc.resolv_conf, "nameserver 192.0.2.53\n", "dns: wins");

        for network in [
            NetworkMode::Host,
            NetworkMode::Loopback,
            NetworkMode::Join {
                path: "/run/netns/elsewhere".into(),
            },
        ] {
            let mut spec = spec_in(network);
            share_resolv_conf(&project, &mut spec);
            assert!(spec.etc.resolv_conf.is_empty(), "{:?}", spec.network);
        }
    }
}
