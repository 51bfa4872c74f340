//! Capabilities of the workload: Docker's default set, adjusted by
//! `cap_add`/`cap_drop`, or everything for `privileged` (capabilities(7)).
//! The `caps` crate does the capget/capset/prctl calls.

use crate::container::spec::SecuritySpec;
use caps::{CapSet, Capability, CapsHashSet};

/// Docker's default capability set (moby `oci/caps/defaults.go`).
pub const DEFAULT_CAPS: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// A capability name in `cap_add`/`cap_drop` that Linux does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability {name:?} in {field}: use a name from capabilities(7) such as NET_ADMIN, or ALL")]
pub struct UnknownCapability {
    pub name: String,
    pub field: &'static str,
}

/// Parse "NET_ADMIN", "cap_net_admin" or "CAP_NET_ADMIN"; `None` for "ALL".
fn parse_cap(name: &str, field: &'static str) -> Result<Option<Capability>, UnknownCapability> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(None);
    }
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    full.parse::<Capability>()
        .map(Some)
        .map_err(|_| UnknownCapability {
            name: name.to_string(),
            field,
        })
}

/// The workload's capability set. Docker applies drops after adds, except
/// that `cap_drop: [ALL]` with `cap_add` keeps the added ones.
pub fn compute(sec: &SecuritySpec) -> Result<CapsHashSet, UnknownCapability> {
    if sec.privileged {
        return Ok(caps::all());
    }
    let mut set: CapsHashSet = DEFAULT_CAPS.into_iter().collect();
    let mut added = CapsHashSet::new();
    for name in &sec.cap_add {
        match parse_cap(name, "cap_add")? {
            Some(cap) => {
                added.insert(cap);
            }
            None => added.extend(caps::all()),
        }
    }
    for name in &sec.cap_drop {
        match parse_cap(name, "cap_drop")? {
            Some(cap) => {
                set.remove(&cap);
                added.remove(&cap);
            }
            None => set.clear(),
        }
    }
    set.extend(added);
    Ok(set)
}

/// Restrict the calling process to `wanted`: shrink the bounding set (so
/// an exec of a setuid binary cannot regain more), clear inheritable and
/// ambient (CVE-2022-24769), set permitted and effective. Capabilities the
/// host itself lacks are left out instead of failing.
pub fn apply(wanted: &CapsHashSet) -> Result<(), caps::errors::CapsError> {
    let bounding = caps::read(None, CapSet::Bounding)?;
    for cap in bounding.difference(wanted) {
        caps::drop(None, CapSet::Bounding, *cap)?;
    }
    let keep: CapsHashSet = wanted.intersection(&bounding).copied().collect();
    caps::clear(None, CapSet::Ambient)?;
    caps::clear(None, CapSet::Inheritable)?;
    // Effective must stay a subset of permitted at every step.
    caps::set(None, CapSet::Effective, &keep)?;
    caps::set(None, CapSet::Permitted, &keep)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(add: &[&str], drop: &[&str]) -> SecuritySpec {
        SecuritySpec {
            cap_add: add.iter().map(|s| s.to_string()).collect(),
            cap_drop: drop.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn default_set_lacks_sys_admin() {
        let set = compute(&SecuritySpec::default()).unwrap();
        assert_eq!(set.len(), 14);
        assert!(!set.contains(&Capability::CAP_SYS_ADMIN));
    }

    #[test]
    fn add_and_drop_accept_docker_spellings() {
        let set = compute(&sec(&["net_admin", "CAP_SYS_PTRACE"], &["CHOWN"])).unwrap();
        assert!(set.contains(&Capability::CAP_NET_ADMIN));
        assert!(set.contains(&Capability::CAP_SYS_PTRACE));
        assert!(!set.contains(&Capability::CAP_CHOWN));
    }

    #[test]
    fn drop_all_keeps_only_added() {
        let set = compute(&sec(&["NET_BIND_SERVICE"], &["ALL"])).unwrap();
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            vec![Capability::CAP_NET_BIND_SERVICE]
        );
    }

    #[test]
    fn unknown_names_are_reported_with_their_field() {
        let err = compute(&sec(&["FLY"], &[])).unwrap_err();
        assert_eq!(err.field, "cap_add");
        assert!(err.to_string().contains("FLY"));
    }
}
