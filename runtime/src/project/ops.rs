//! What the executor does to one container or volume; each operation
//! leaves nothing half-made behind when it fails.

use super::executor::Env;
use super::record::ContainerRecord;
use super::{command, hooks, join, parse_signal, pre_start, volume, ProjectDir, ProjectError};
use crate::container::state::STATE_FILE;
use crate::container::Container;
use crate::network::NetworkSpec;
use nix::sys::signal::Signal;
use std::path::PathBuf;
use std::time::Duration;

/// Everything needed to create one container.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CreateRequest {
    pub record: ContainerRecord,
    /// Volumes to create, with the image path to seed each from.
    pub volumes: Vec<VolumeSeed>,
    /// Bind sources to create when missing.
    pub host_dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VolumeSeed {
    pub name: String,
    pub seed_from: Option<String>,
}

/// Create the container's record (and its volumes and bind sources); it
/// is started by [`start`].
pub fn create(project: &ProjectDir, req: &CreateRequest) -> Result<(), ProjectError> {
    for dir in &req.host_dirs {
        std::fs::create_dir_all(dir).map_err(ProjectError::io("create the bind source", dir))?;
    }
    let volumes_dir = project.volumes_dir();
    for v in &req.volumes {
        volume::create(&volumes_dir, &v.name)?;
        if let Some(target) = &v.seed_from {
            let data = volume::data_dir(&volumes_dir, &v.name);
            volume::seed(&data, &req.record.spec.rootfs.lower_dirs, target)?;
        }
    }
    let dir = project.container_dir(&req.record.name);
    if dir.exists() && ContainerRecord::read(&dir).is_err() {
        // A leftover of an interrupted create: nothing runs from it.
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir).map_err(ProjectError::io("create", &dir))?;
    if let Err(e) = req.record.write(&dir) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    Ok(())
}

/// Start a created or stopped container: its published ports listen,
/// it joins its networks, then it runs.
pub fn start(project: &ProjectDir, name: &str, env: &Env<'_>) -> Result<(), ProjectError> {
    let dir = existing(project, name)?;
    let record = ContainerRecord::read(&dir)?;
    command::check(&record.spec)?;
    if dir.join(STATE_FILE).exists() {
        // A run that ended by itself still has its cgroup: release it
        // before the new run makes its own (a no-op after `stop`).
        let previous = Container::load(&dir)?;
        if previous.state()?.status.can_cleanup() {
            previous.cleanup()?;
        }
    }
    let mut spec = record.spec.clone();
    let scope = crate::scope::scope_for_root(project.root());
    spec.cgroup_name = Some(crate::scope::cgroup_name(&scope, &spec.id));
    let networked = !record.networks.is_empty();
    if networked {
        env.services.publish(&record)?;
        join::join(project, &record, &mut spec)?;
        if let Err(e) = env.services.joined(&record) {
            let _ = join::leave(project, name);
            env.services.refresh();
            return Err(e);
        }
    } else {
        join::share_resolv_conf(project, &mut spec);
    }
    // `pre_start` init containers run in the namespace just joined and
    // with the container's mounts; a failing one keeps it from starting.
    let started = pre_start::run(project, &record, &dir, &spec, env.init)
        .and_then(|()| Container::create(&spec, &dir, env.init).map_err(Into::into));
    if let Err(e) = started {
        if networked {
            let _ = join::leave(project, name);
        }
        env.services.refresh();
        return Err(e);
    }
    env.services.refresh();
    // As docker compose: a failing post_start hook fails the start; the
    // container keeps running.
    hooks::run(
        &record,
        &dir,
        "post_start",
        &record.hooks.post_start,
        env.init,
    )
}

/// Stop a container: its `pre_stop` hooks, then its stop signal, SIGKILL
/// after `timeout` (else its grace period); then release its cgroup,
/// mounts and addresses.
pub fn stop(
    project: &ProjectDir,
    name: &str,
    timeout: Option<Duration>,
    env: &Env<'_>,
) -> Result<(), ProjectError> {
    let dir = existing(project, name)?;
    if !dir.join(STATE_FILE).exists() {
        // Not started yet, maybe waiting for a `pre_start` hook: end it.
        pre_start::abort(&dir);
        return Ok(());
    }
    let record = ContainerRecord::read(&dir)?;
    let signal = parse_signal(&record.stop_signal).ok_or_else(|| ProjectError::BadSignal {
        name: name.to_string(),
        signal: record.stop_signal.clone(),
    })?;
    let container = Container::load(&dir)?;
    if container.state()?.status.can_exec() {
        // docker compose runs pre_stop hooks before the stop signal, and a
        // failing one keeps the container running.
        hooks::run(&record, &dir, "pre_stop", &record.hooks.pre_stop, env.init)?;
    }
    container.stop_with(
        signal,
        timeout.unwrap_or_else(|| record.stop_grace_period()),
    )?;
    container.cleanup()?;
    // A stopped container gives its addresses back, as Docker's do.
    if !record.networks.is_empty() {
        join::leave(project, name)?;
    }
    Ok(())
}

/// Send `signal` to a running container's workload (through its init).
pub fn kill(project: &ProjectDir, name: &str, signal: Signal) -> Result<(), ProjectError> {
    let dir = existing(project, name)?;
    Container::load(&dir)?.kill(signal)?;
    Ok(())
}

/// Remove a container (stopping it first if it runs), and with `volumes`
/// its anonymous volumes.
pub fn remove(project: &ProjectDir, name: &str, volumes: bool) -> Result<(), ProjectError> {
    let dir = existing(project, name)?;
    let record = ContainerRecord::read(&dir).ok();
    // A `pre_start` hook still running for it goes first.
    pre_start::abort(&dir);
    if dir.join(STATE_FILE).exists() {
        Container::load(&dir)?.remove()?;
    } else {
        crate::container::create::remove_state_dir(&dir)
            .map_err(ProjectError::io("remove", &dir))?;
    }
    if record.as_ref().is_some_and(|r| !r.networks.is_empty()) {
        join::leave(project, name)?;
    }
    if volumes {
        for v in record
            .iter()
            .flat_map(|r| &r.volumes)
            .filter(|v| v.anonymous)
        {
            volume::remove(&project.volumes_dir(), &v.name)?;
        }
    }
    Ok(())
}

fn existing(project: &ProjectDir, name: &str) -> Result<PathBuf, ProjectError> {
    let dir = project.container_dir(name);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(ProjectError::NoSuchContainer {
            name: name.to_string(),
        })
    }
}

/// Create a project network (bridge, subnet, NAT) and record it as the
/// project's; an external one must exist already.
pub fn create_network(
    project: &ProjectDir,
    spec: &NetworkSpec,
    external: bool,
) -> Result<(), ProjectError> {
    let networks = join::networks(project);
    if external {
        return match networks.get(&spec.name)? {
            Some(_) => Ok(()),
            None => Err(ProjectError::ExternalNetworkMissing {
                network: spec.name.clone(),
            }),
        };
    }
    networks.create(spec)?;
    let dir = project.networks_dir();
    std::fs::create_dir_all(&dir).map_err(ProjectError::io("create", &dir))?;
    let path = dir.join(&spec.name);
    let json = serde_json::to_vec_pretty(spec).expect("network specs serialise");
    std::fs::write(&path, json).map_err(ProjectError::io("write", &path))
}

/// Remove a project network: its bridge, leases and rules, then its record.
pub fn remove_network(project: &ProjectDir, name: &str) -> Result<(), ProjectError> {
    join::networks(project).remove(name)?;
    let path = project.networks_dir().join(name);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ProjectError::Io {
            action: "remove",
            path,
            source: e,
        }),
        _ => Ok(()),
    }
}
