//! The default seccomp filter: a deny list modelled on the syscalls Docker's
//! default profile refuses (moby `profiles/seccomp/default.json`). Docker's
//! profile is an allow list of ~350 syscalls; the deny list below blocks the
//! same dangerous families (kernel modules, kexec, keyrings, bpf, perf,
//! mounts and namespaces, clock setting, swap, reboot) with EPERM, and
//! `clone3` with ENOSYS so libc falls back to `clone`, whose namespace flags
//! can be inspected. `privileged` and `seccomp=unconfined` load nothing.
//!
//! seccompiler (from Firecracker) compiles the BPF in pure Rust, so the
//! binary needs no libseccomp C library at build or run time.

use nix::libc;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;

/// Why the filter could not be built or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("seccomp is not supported on architecture {arch}")]
    Arch { arch: &'static str },
    #[error("cannot build the seccomp filter: {0}")]
    Build(#[from] seccompiler::BackendError),
    #[error("cannot load the seccomp filter: {0}")]
    Load(#[source] std::io::Error),
}

/// Syscalls refused to every unprivileged container.
const DENIED: &[libc::c_long] = &[
    libc::SYS_acct,
    libc::SYS_add_key,
    libc::SYS_bpf,
    libc::SYS_clock_adjtime,
    libc::SYS_clock_settime,
    libc::SYS_delete_module,
    libc::SYS_finit_module,
    libc::SYS_init_module,
    libc::SYS_kexec_file_load,
    libc::SYS_kexec_load,
    libc::SYS_keyctl,
    libc::SYS_lookup_dcookie,
    libc::SYS_move_pages,
    libc::SYS_get_mempolicy,
    libc::SYS_set_mempolicy,
    libc::SYS_mbind,
    libc::SYS_name_to_handle_at,
    libc::SYS_open_by_handle_at,
    libc::SYS_perf_event_open,
    libc::SYS_quotactl,
    libc::SYS_reboot,
    libc::SYS_request_key,
    libc::SYS_settimeofday,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_userfaultfd,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ustat,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_sysfs,
    #[cfg(target_arch = "x86_64")]
    libc::SYS__sysctl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_nfsservctl,
];

/// Refused unless the container has CAP_SYS_ADMIN, as in Docker's profile.
const DENIED_WITHOUT_SYS_ADMIN: &[libc::c_long] = &[
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_setns,
    libc::SYS_unshare,
];

/// Namespace flags `clone` may not carry without CAP_SYS_ADMIN.
const NAMESPACE_FLAGS: [libc::c_int; 7] = [
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

fn arch() -> Result<seccompiler::TargetArch, SeccompError> {
    std::env::consts::ARCH
        .try_into()
        .map_err(|_| SeccompError::Arch {
            arch: std::env::consts::ARCH,
        })
}

/// The default filter's programs, to load in order.
pub fn default_programs(has_sys_admin: bool) -> Result<Vec<BpfProgram>, SeccompError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = DENIED.iter().map(|n| (*n, vec![])).collect();
    if !has_sys_admin {
        rules.extend(DENIED_WITHOUT_SYS_ADMIN.iter().map(|n| (*n, vec![])));
        let clone_rules = NAMESPACE_FLAGS
            .iter()
            .map(|flag| {
                let cond = SeccompCondition::new(
                    0,
                    SeccompCmpArgLen::Qword,
                    SeccompCmpOp::MaskedEq(*flag as u64),
                    *flag as u64,
                )?;
                SeccompRule::new(vec![cond])
            })
            .collect::<Result<Vec<_>, _>>()?;
        rules.insert(libc::SYS_clone, clone_rules);
    }
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch()?,
    )?;
    let clone3 = SeccompFilter::new(
        [(libc::SYS_clone3, vec![])].into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch()?,
    )?;
    Ok(vec![deny.try_into()?, clone3.try_into()?])
}

/// Load `programs` into the calling thread. Needs no_new_privs or
/// CAP_SYS_ADMIN in the effective set (seccomp(2)).
pub fn load(programs: &[BpfProgram]) -> Result<(), SeccompError> {
    for program in programs {
        crate::sys::seccomp::load_filter(program).map_err(SeccompError::Load)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_filter_compiles_with_and_without_sys_admin() {
        let without = default_programs(false).unwrap();
        let with = default_programs(true).unwrap();
        assert_eq!(without.len(), 2);
        // The clone and mount rules make the unprivileged program longer.
        assert!(without[0].len() > with[0].len());
    }
}
