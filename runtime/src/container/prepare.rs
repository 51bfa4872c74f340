//! Checks and files before a container starts: the spec validated without
//! touching the kernel, the `devices:` mappings resolved, a still-running
//! container refused, and the per-container /etc files written.

use crate::cgroups::DevicePolicy;
use crate::container::caps;
use crate::container::devices::DeviceNode;
use crate::container::error::{ContainerError, SetupError};
use crate::container::init::ETC_FILES;
use crate::container::spec::{ContainerSpec, Mount};
use crate::container::state::StateDir;
use crate::container::sysctl;
use crate::sys::process::pidfd_open;
use nix::unistd::Pid;

/// /etc/hosts when the spec gives none (Docker's loopback entries).
const DEFAULT_HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// A container whose init still runs must be stopped first; a Running
/// state whose init is gone (host crash) is stale and may be replaced.
pub(super) fn refuse_if_running(dir: &StateDir, id: &str) -> Result<(), ContainerError> {
    let Ok(old) = dir.load_state() else {
        return Ok(());
    };
    let alive = old
        .pid
        .is_some_and(|p| pidfd_open(Pid::from_raw(p)).is_ok());
    if !old.status.can_cleanup() && alive {
        return Err(ContainerError::BadState {
            id: id.to_string(),
            status: old.status,
            action: "create it again",
        });
    }
    Ok(())
}

/// Resolve the `devices:` mappings on the host and the cgroup's device
/// policy: everything for privileged, else Docker's list plus the mappings.
pub(super) fn device_policy(
    spec: &ContainerSpec,
) -> Result<(Vec<DeviceNode>, DevicePolicy), ContainerError> {
    let nodes = spec
        .devices
        .iter()
        .map(DeviceNode::resolve)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| ContainerError::Spec {
            id: spec.id.clone(),
            source,
        })?;
    let policy = if spec.security.privileged {
        DevicePolicy::All
    } else {
        DevicePolicy::Restricted {
            extra: nodes.iter().map(DeviceNode::rule).collect(),
        }
    };
    Ok((nodes, policy))
}

/// Cheap checks before touching the kernel, so mistakes are named early.
pub(super) fn validate(spec: &ContainerSpec) -> Result<(), ContainerError> {
    let id = &spec.id;
    if spec.process.args.is_empty() {
        return Err(ContainerError::Spec {
            id: id.clone(),
            source: SetupError::NoCommand,
        });
    }
    let spec_error = |source| ContainerError::Spec {
        id: id.clone(),
        source,
    };
    if spec.rootfs.lower_dirs.is_empty() {
        return Err(spec_error(SetupError::NoLayers));
    }
    if !valid_hostname(&spec.hostname) {
        return Err(spec_error(SetupError::BadHostname {
            name: spec.hostname.clone(),
        }));
    }
    if !valid_domainname(&spec.domainname) {
        return Err(spec_error(SetupError::BadDomainname {
            name: spec.domainname.clone(),
        }));
    }
    if let Some(score) = spec.process.oom_score_adj {
        if !(-1000..=1000).contains(&score) {
            return Err(spec_error(SetupError::BadOomScoreAdj { score }));
        }
    }
    if !spec.process.cwd.starts_with('/') {
        return Err(spec_error(SetupError::RelativeWorkingDir {
            cwd: spec.process.cwd.clone(),
        }));
    }
    for dir in &spec.rootfs.lower_dirs {
        if !dir.is_dir() {
            return Err(ContainerError::MissingLayer {
                id: id.clone(),
                path: dir.clone(),
            });
        }
    }
    for mount in &spec.mounts {
        if let Mount::Bind { source, .. } = mount {
            if !source.exists() {
                return Err(ContainerError::MissingBindSource {
                    id: id.clone(),
                    path: source.clone(),
                });
            }
        }
    }
    for key in spec.sysctls.keys() {
        sysctl::validate(key, &spec.network).map_err(|source| ContainerError::Spec {
            id: id.clone(),
            source,
        })?;
    }
    caps::compute(&spec.security).map_err(|e| ContainerError::Spec {
        id: id.clone(),
        source: e.into(),
    })?;
    Ok(())
}

/// RFC 1123 host names, at most 63 bytes (sethostname(2) takes 64).
pub(super) fn valid_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// What setdomainname(2) takes (64 bytes at most) and a file or terminal
/// shows sanely: no whitespace or control characters. Docker passes the
/// value through; the kernel would refuse only the length.
pub(super) fn valid_domainname(name: &str) -> bool {
    name.len() <= 64 && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(super) fn write_etc_files(dir: &StateDir, spec: &ContainerSpec) -> std::io::Result<()> {
    let hosts = if spec.etc.hosts.is_empty() {
        DEFAULT_HOSTS.to_string()
    } else {
        spec.etc.hosts.clone()
    };
    let resolv = if spec.etc.resolv_conf.is_empty() {
        std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()
    } else {
        spec.etc.resolv_conf.clone()
    };
    let hostname = format!("{}\n", spec.hostname);
    for ((name, _), content) in ETC_FILES.iter().zip([hosts, hostname, resolv]) {
        dir.write_atomic(name, content.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_follow_rfc_1123() {
        for good in ["web", "web-1", "a.b.c", "x1"] {
            assert!(valid_hostname(good), "{good}");
        }
        let long = "a".repeat(64);
        for bad in ["", "-web", "web-", "a..b", "under_score", long.as_str()] {
            assert!(!valid_hostname(bad), "{bad}");
        }
    }

    #[test]
    fn domainnames_fit_the_kernels_limit() {
        for good in ["", "example.com", "corp", "a-b.c_d"] {
            assert!(valid_domainname(good), "{good}");
        }
        let long = "a".repeat(65);
        for bad in ["two words", "tab\there", "nl\n", long.as_str()] {
            assert!(!valid_domainname(bad), "{bad}");
        }
    }

    #[test]
    fn specs_are_checked_before_touching_the_kernel() {
        let layer = tempfile::tempdir().unwrap();
        let ok = ContainerSpec::new("c1", vec![layer.path().into()], vec!["true".into()]);
        assert!(validate(&ok).is_ok());
        let mut relative = ok.clone();
        relative.process.cwd = "app".into();
        let err = validate(&relative).unwrap_err().to_string();
        assert!(err.contains("absolute"), "{err}");
        let mut missing = ok.clone();
        missing.rootfs.lower_dirs = vec![layer.path().join("nope")];
        assert!(matches!(
            validate(&missing),
            Err(ContainerError::MissingLayer { .. })
        ));
        let mut bad_cap = ok;
        bad_cap.security.cap_add = vec!["FLY".into()];
        let err = validate(&bad_cap).unwrap_err().to_string();
        assert!(err.contains("FLY"), "{err}");
    }
}
