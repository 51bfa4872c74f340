//! cgroup limits and security settings: docker compose's
//! `getDeployResources` (service fields first, `deploy.resources` over
//! them), capabilities, `security_opt`, `sysctls`, `devices`, `shm_size`.

use super::{Note, RunSpecError};
use crate::model::ServiceConfig;
use compose_runtime::cgroups::Resources;
use compose_runtime::container::spec::{DeviceMapping, SeccompMode};
use compose_runtime::container::ContainerSpec;

/// The CFS period Docker uses with `--cpus` (100 ms).
const CPU_PERIOD: u64 = 100_000;

pub fn apply(
    service: &ServiceConfig,
    spec: &mut ContainerSpec,
    notes: &mut Vec<Note>,
) -> Result<(), RunSpecError> {
    spec.resources = resources(service);
    if service.shm_size.0 > 0 {
        spec.shm_size = service.shm_size.0 as u64;
    }
    spec.security.privileged = service.privileged;
    spec.security.cap_add = service.cap_add.clone();
    spec.security.cap_drop = service.cap_drop.clone();
    for (index, entry) in service.security_opt.iter().enumerate() {
        security_opt(service, index, entry, spec, notes)?;
    }
    spec.sysctls = service
        .sysctls
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    spec.devices = service
        .devices
        .iter()
        .map(|d| DeviceMapping {
            host_path: d.source.clone().into(),
            container_path: if d.target.is_empty() {
                d.source.clone()
            } else {
                d.target.clone()
            },
            permissions: if d.permissions.is_empty() {
                "rwm".to_string()
            } else {
                d.permissions.clone()
            },
        })
        .collect();
    Ok(())
}

fn positive(v: i64) -> Option<i64> {
    (v > 0).then_some(v)
}

/// Service-level limits, overridden by `deploy.resources.limits` and
/// `.reservations` where those are set (docker compose's `setLimits`).
pub fn resources(service: &ServiceConfig) -> Resources {
    let deploy = service.deploy.as_ref().map(|d| &d.resources);
    let limits = deploy.and_then(|r| r.limits.as_ref());
    let reservations = deploy.and_then(|r| r.reservations.as_ref());
    let memory = limits
        .and_then(|l| positive(l.memory.0))
        .or(positive(service.mem_limit.0));
    let reservation = reservations
        .and_then(|r| positive(r.memory.0))
        .or(positive(service.mem_reservation.0));
    let cpus = limits
        .map(|l| l.cpus)
        .filter(|c| *c > 0.0)
        .or((service.cpus > 0.0).then_some(service.cpus));
    let period = positive(service.cpu_period).map_or(CPU_PERIOD, |p| p as u64);
    let (cpu_quota, cpu_period) = match cpus {
        Some(c) => (
            Some((f64::from(c) * period as f64).round() as u64),
            Some(period),
        ),
        None => match positive(service.cpu_quota) {
            Some(q) => (Some(q as u64), Some(period)),
            None => (None, None),
        },
    };
    let pids = limits
        .and_then(|l| (l.pids != 0).then_some(l.pids))
        .or((service.pids_limit != 0).then_some(service.pids_limit));
    Resources {
        memory: memory.map(|m| m as u64),
        memory_reservation: reservation.map(|m| m as u64),
        memory_swap: (service.memswap_limit.0 != 0).then_some(service.memswap_limit.0),
        cpu_quota,
        cpu_period,
        cpu_shares: positive(service.cpu_shares).map(|s| s as u64),
        cpuset_cpus: (!service.cpuset.is_empty()).then(|| service.cpuset.clone()),
        cpuset_mems: None,
        pids_limit: pids,
    }
}

/// One `security_opt` entry, `KEY=VALUE` or `KEY:VALUE` (both accepted by
/// Docker's CLI).
fn security_opt(
    service: &ServiceConfig,
    index: usize,
    entry: &str,
    spec: &mut ContainerSpec,
    notes: &mut Vec<Note>,
) -> Result<(), RunSpecError> {
    let (key, value) = match entry.find(['=', ':']) {
        Some(i) => (&entry[..i], &entry[i + 1..]),
        None => (entry, ""),
    };
    match (key, value) {
        ("seccomp", "unconfined") => spec.security.seccomp = SeccompMode::Unconfined,
        ("no-new-privileges", "" | "true") => spec.process.no_new_privileges = true,
        ("no-new-privileges", "false") => spec.process.no_new_privileges = false,
        ("seccomp" | "apparmor" | "label" | "systempaths", _) if !value.is_empty() => {
            notes.push(Note::Ignored {
                field: format!("security_opt: {entry}"),
            })
        }
        _ => {
            return Err(RunSpecError::SecurityOpt {
                service: service.name.clone(),
                index,
                entry: entry.to_string(),
            })
        }
    }
    Ok(())
}
