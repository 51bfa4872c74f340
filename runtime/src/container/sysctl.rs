//! Compose `sysctls:`: kernel parameters set inside the container. Only
//! parameters the container's own namespaces scope may be set, the list
//! runc validates (libcontainer/configs/validate): IPC ones (kernel.msg*,
//! kernel.sem, kernel.shm*, fs.mqueue.*) and, with a network namespace of
//! its own, net.*. They are written to /proc/sys before it is made
//! read-only.

use crate::container::error::SetupError;
use crate::container::spec::NetworkMode;
use std::path::PathBuf;

const IPC_KEYS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Refuse a sysctl that is not namespaced (it would change the host) or
/// whose name could leave /proc/sys.
pub fn validate(key: &str, network: &NetworkMode) -> Result<(), SetupError> {
    let refuse = |reason: &'static str| {
        Err(SetupError::SysctlNotAllowed {
            key: key.to_string(),
            reason,
        })
    };
    let well_formed = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !key.split('.').any(|part| part.is_empty());
    if !well_formed {
        return refuse("it is not a sysctl name");
    }
    if IPC_KEYS.contains(&key) || key.starts_with("fs.mqueue.") {
        return Ok(());
    }
    if key.starts_with("net.") {
        return match network {
            NetworkMode::Host => refuse("net.* sysctls cannot be set with network_mode: host"),
            _ => Ok(()),
        };
    }
    refuse("it is not namespaced: setting it would change the host")
}

/// The /proc/sys file of `key`.
pub fn proc_path(key: &str) -> PathBuf {
    PathBuf::from("/proc/sys").join(key.replace('.', "/"))
}

/// Write every sysctl (inside the container, /proc mounted).
pub fn apply<'a>(
    sysctls: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), SetupError> {
    for (key, value) in sysctls {
        let path = proc_path(key);
        std::fs::write(&path, value).map_err(|source| SetupError::Sysctl {
            key: key.clone(),
            value: value.clone(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_sysctls_are_allowed() {
        let own = NetworkMode::Loopback;
        assert!(validate("net.core.somaxconn", &own).is_ok());
        assert!(validate("kernel.shmmax", &own).is_ok());
        assert!(validate("fs.mqueue.msg_max", &own).is_ok());
        assert_eq!(
            proc_path("net.ipv4.ip_forward"),
            PathBuf::from("/proc/sys/net/ipv4/ip_forward")
        );
    }

    #[test]
    fn host_wide_or_malformed_sysctls_are_refused() {
        let own = NetworkMode::Loopback;
        for key in ["vm.swappiness", "kernel.panic", "net..x", "net/../../x", ""] {
            assert!(validate(key, &own).is_err(), "{key}");
        }
        let err = validate("net.core.somaxconn", &NetworkMode::Host).unwrap_err();
        assert!(err.to_string().contains("network_mode: host"), "{err}");
    }
}
