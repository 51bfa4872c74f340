//! The workload process: everything between the init's fork and execve —
//! session, stdio, cwd, rlimits, user and groups, capabilities,
//! no_new_privs, seccomp — then the PATH search and exec, with Docker's
//! exit codes when the command cannot run (126 not executable, 127 not
//! found). All allocation-heavy preparation happens before the fork, in
//! [`Plan::prepare`].

use crate::container::caps;
use crate::container::error::SetupError;
use crate::container::seccomp;
use crate::container::spec::{ContainerSpec, ProcessSpec, Rlimit, SeccompMode, DEFAULT_PATH};
use crate::container::user::{self, ResolvedUser};
use crate::sys::process::{default_signal_state, exit_immediately};
use ::caps::{CapSet, Capability, CapsHashSet};
use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::unistd::{Gid, Uid};
use seccompiler::BpfProgram;
use std::ffi::CString;
use std::io::Write;
use std::os::fd::OwnedFd;

/// Exit code when the command exists but cannot be executed (Docker's).
pub const EXIT_CANNOT_EXECUTE: i32 = 126;
/// Exit code when the command is not found (Docker's, the shell's).
pub const EXIT_NOT_FOUND: i32 = 127;
/// Exit code when the runtime failed to set up the process (Docker's 125).
pub const EXIT_SETUP_FAILED: i32 = 125;

/// Everything the forked child needs, computed before the fork.
#[derive(Debug)]
pub struct Plan {
    arg0: String,
    argv: Vec<CString>,
    envp: Vec<CString>,
    /// Paths to try in order: args[0] itself, or each PATH entry joined.
    candidates: Vec<CString>,
    cwd: CString,
    user: ResolvedUser,
    rlimits: Vec<(Resource, u64, u64)>,
    caps: CapsHashSet,
    no_new_privs: bool,
    seccomp: Vec<BpfProgram>,
    oom_score_adj: Option<i32>,
}

fn cstring(s: &str) -> Result<CString, SetupError> {
    CString::new(s).map_err(|_| SetupError::NulByte {
        value: s.to_string(),
    })
}

impl Plan {
    /// Resolve the user against the (pivoted) root's /etc files and build
    /// argv, envp and the exec candidates.
    pub fn prepare(spec: &ContainerSpec) -> Result<Plan, SetupError> {
        Plan::prepare_process(spec, &spec.process)
    }

    /// As [`Plan::prepare`] for another process of the container (exec),
    /// with the container's security settings.
    pub fn prepare_process(
        spec: &ContainerSpec,
        process: &ProcessSpec,
    ) -> Result<Plan, SetupError> {
        let arg0 = process.args.first().ok_or(SetupError::NoCommand)?.clone();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
        let user = user::resolve(&process.user, &process.additional_groups, &passwd, &group)?;
        let env = workload_env(&process.env, &spec.hostname, &user.home);
        let path = env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH);
        let candidates = exec_candidates(&arg0, path);
        // A privileged exec gets what a privileged container's workload
        // gets: every capability and no seccomp filter (moby's exec with
        // `Privileged` replaces the process's capabilities with all of
        // them).
        let mut security = spec.security.clone();
        security.privileged |= process.privileged;
        let caps = caps::compute(&security)?;
        let seccomp = match (security.privileged, security.seccomp) {
            (true, _) | (_, SeccompMode::Unconfined) => Vec::new(),
            (false, SeccompMode::Default) => {
                seccomp::default_programs(caps.contains(&Capability::CAP_SYS_ADMIN))?
            }
        };
        Ok(Plan {
            argv: process
                .args
                .iter()
                .map(|a| cstring(a))
                .collect::<Result<_, _>>()?,
            envp: env.iter().map(|e| cstring(e)).collect::<Result<_, _>>()?,
            candidates: candidates
                .iter()
                .map(|c| cstring(c))
                .collect::<Result<_, _>>()?,
            cwd: cstring(&process.cwd)?,
            rlimits: process
                .rlimits
                .iter()
                .map(rlimit)
                .collect::<Result<_, _>>()?,
            arg0,
            user,
            caps,
            no_new_privs: process.no_new_privileges,
            seccomp,
            oom_score_adj: process.oom_score_adj,
        })
    }

    /// The working directory (created by the init before the fork).
    pub fn cwd(&self) -> &std::ffi::CStr {
        &self.cwd
    }
}

/// The spec's env plus Docker's defaults: PATH, HOSTNAME, HOME when unset.
fn workload_env(env: &[String], hostname: &str, home: &str) -> Vec<String> {
    let mut out: Vec<String> = env.to_vec();
    let has = |key: &str, out: &[String]| out.iter().any(|e| e.split('=').next() == Some(key));
    if !has("PATH", &out) {
        out.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !has("HOSTNAME", &out) {
        out.insert(1, format!("HOSTNAME={hostname}"));
    }
    if !has("HOME", &out) {
        out.push(format!("HOME={home}"));
    }
    out
}

/// execvp(3)'s search: a name with '/' is used as is, else each PATH entry.
fn exec_candidates(arg0: &str, path: &str) -> Vec<String> {
    if arg0.contains('/') {
        return vec![arg0.to_string()];
    }
    path.split(':')
        .map(|dir| if dir.is_empty() { "." } else { dir })
        .map(|dir| format!("{}/{arg0}", dir.trim_end_matches('/')))
        .collect()
}

/// Compose's ulimit name to the kernel resource, clamped to our own hard
/// limit: raising a hard limit needs CAP_SYS_RESOURCE, which we may lack.
fn rlimit(limit: &Rlimit) -> Result<(Resource, u64, u64), SetupError> {
    let resource = match limit.name.to_ascii_lowercase().as_str() {
        "core" => Resource::RLIMIT_CORE,
        "cpu" => Resource::RLIMIT_CPU,
        "data" => Resource::RLIMIT_DATA,
        "fsize" => Resource::RLIMIT_FSIZE,
        "locks" => Resource::RLIMIT_LOCKS,
        "memlock" => Resource::RLIMIT_MEMLOCK,
        "msgqueue" => Resource::RLIMIT_MSGQUEUE,
        "nice" => Resource::RLIMIT_NICE,
        "nofile" => Resource::RLIMIT_NOFILE,
        "nproc" => Resource::RLIMIT_NPROC,
        "rss" => Resource::RLIMIT_RSS,
        "rtprio" => Resource::RLIMIT_RTPRIO,
        "rttime" => Resource::RLIMIT_RTTIME,
        "sigpending" => Resource::RLIMIT_SIGPENDING,
        "stack" => Resource::RLIMIT_STACK,
        _ => {
            return Err(SetupError::UnknownRlimit {
                name: limit.name.clone(),
            })
        }
    };
    let (_, current_hard) =
        getrlimit(resource).map_err(SetupError::sys("read a resource limit"))?;
    let hard = limit.hard.min(current_hard);
    Ok((resource, limit.soft.min(hard), hard))
}

/// Where the process's stdio goes.
#[derive(Debug)]
pub enum Stdio {
    /// The container's main process: stdin from /dev/null (or the run
    /// FIFO's read end), stdout and stderr into the init's log pipes, in a
    /// session of its own.
    Log {
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
    /// Compose `tty: true`: the terminal's slave side becomes stdin,
    /// stdout, stderr and the controlling terminal of a new session.
    Tty { slave: OwnedFd },
    /// An exec'd process: keep the caller's stdio and process group, so a
    /// terminal's Ctrl-C reaches it as with `docker exec`.
    Inherit,
}

/// In the forked child: set the process up and exec; never returns.
/// Failures are written to the process's stderr.
///
/// The process starts with every signal at its default action and none
/// blocked, as under Docker: the init blocks the signals it forwards, and
/// a mask or ignored signal of whoever started the container must not
/// reach the workload either (a blocked SIGTERM would make `stop` wait
/// the whole grace period, then SIGKILL).
pub fn exec(plan: &Plan, stdio: Stdio) -> ! {
    if let Err(e) = redirect(stdio).and_then(|()| setup(plan)) {
        let _ = writeln!(
            std::io::stderr(),
            "compose: cannot start the container process: {e}"
        );
        exit_immediately(EXIT_SETUP_FAILED);
    }
    let mut err_out = std::io::stderr();
    let mut last = Errno::ENOENT;
    for candidate in &plan.candidates {
        // Only returns on failure.
        let Err(errno) = nix::unistd::execve(candidate, &plan.argv, &plan.envp);
        // As execvp(3): a permission problem on one entry is remembered, a
        // missing file just moves on to the next.
        if errno != Errno::ENOENT && errno != Errno::ENOTDIR {
            last = errno;
        }
    }
    let (code, why) = match last {
        Errno::ENOENT if plan.arg0.contains('/') => {
            (EXIT_NOT_FOUND, "no such file or directory".to_string())
        }
        Errno::ENOENT => (
            EXIT_NOT_FOUND,
            "executable file not found in $PATH".to_string(),
        ),
        other => (EXIT_CANNOT_EXECUTE, other.desc().to_lowercase()),
    };
    let _ = writeln!(err_out, "compose: exec {:?}: {why}", plan.arg0);
    exit_immediately(code)
}

fn redirect(stdio: Stdio) -> Result<(), SetupError> {
    let (stdin, stdout, stderr) = match stdio {
        Stdio::Inherit => {
            // An exec'd process dies with its shim (a healthcheck timed
            // out, `compose exec` was killed) instead of lingering.
            return nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(SetupError::sys("set the parent-death signal"));
        }
        Stdio::Tty { slave } => return attach_tty(slave),
        Stdio::Log {
            stdin,
            stdout,
            stderr,
        } => (stdin, stdout, stderr),
    };
    nix::unistd::setsid().map_err(SetupError::sys("create a session"))?;
    match stdin {
        Some(fd) => nix::unistd::dup2_stdin(&fd).map_err(SetupError::sys("redirect stdin"))?,
        None => {
            let null =
                std::fs::File::open("/dev/null").map_err(SetupError::io("open", "/dev/null"))?;
            nix::unistd::dup2_stdin(&null).map_err(SetupError::sys("redirect stdin"))?;
        }
    }
    nix::unistd::dup2_stdout(&stdout).map_err(SetupError::sys("redirect stdout"))?;
    nix::unistd::dup2_stderr(&stderr).map_err(SetupError::sys("redirect stderr"))?;
    Ok(())
}

fn attach_tty(slave: OwnedFd) -> Result<(), SetupError> {
    nix::unistd::setsid().map_err(SetupError::sys("create a session"))?;
    crate::sys::tty::set_controlling_terminal(std::os::fd::AsFd::as_fd(&slave))
        .map_err(|e| SetupError::io("set the controlling terminal", "/dev/pts")(e))?;
    nix::unistd::dup2_stdin(&slave).map_err(SetupError::sys("redirect stdin"))?;
    nix::unistd::dup2_stdout(&slave).map_err(SetupError::sys("redirect stdout"))?;
    nix::unistd::dup2_stderr(&slave).map_err(SetupError::sys("redirect stderr"))?;
    Ok(())
}

fn setup(plan: &Plan) -> Result<(), SetupError> {
    default_signal_state().map_err(SetupError::sys("reset the signal mask"))?;
    crate::sys::process::cloexec_from(3)
        .map_err(|e| SetupError::io("mark descriptors close-on-exec from", "fd 3")(e))?;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    nix::unistd::chdir(plan.cwd.as_c_str())
        .map_err(SetupError::sys("enter the working directory"))?;
    if let Some(score) = plan.oom_score_adj {
        // Written while still root: /proc/self is ours to change.
        std::fs::write("/proc/self/oom_score_adj", score.to_string())
            .map_err(SetupError::io("write", "/proc/self/oom_score_adj"))?;
    }
    for (resource, soft, hard) in &plan.rlimits {
        setrlimit(*resource, *soft, *hard).map_err(SetupError::sys("set a resource limit"))?;
    }
    switch_user(&plan.user)?;
    // Loading a filter needs CAP_SYS_ADMIN or no_new_privs; setuid to a
    // non-root user cleared the effective set, so raise it again first.
    ::caps::set(
        None,
        CapSet::Effective,
        &::caps::read(None, CapSet::Permitted)?,
    )?;
    if plan.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(SetupError::sys("set no_new_privs"))?;
    }
    seccomp::load(&plan.seccomp)?;
    caps::apply(&plan.caps)?;
    Ok(())
}

/// setgroups, setgid, setuid, keeping the permitted capabilities across the
/// uid change (PR_SET_KEEPCAPS) so they can be set to the container's set.
fn switch_user(user: &ResolvedUser) -> Result<(), SetupError> {
    nix::sys::prctl::set_keepcaps(true).map_err(SetupError::sys("keep capabilities"))?;
    let groups: Vec<Gid> = user.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    nix::unistd::setgroups(&groups).map_err(SetupError::sys("set supplementary groups"))?;
    nix::unistd::setgid(Gid::from_raw(user.gid)).map_err(SetupError::sys("set the group id"))?;
    nix::unistd::setuid(Uid::from_raw(user.uid)).map_err(SetupError::sys("set the user id"))?;
    nix::sys::prctl::set_keepcaps(false).map_err(SetupError::sys("reset keepcaps"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_gets_docker_defaults_only_when_missing() {
        let env = workload_env(&["A=1".into()], "web", "/root");
        assert_eq!(
            env,
            vec![
                format!("PATH={DEFAULT_PATH}"),
                "HOSTNAME=web".into(),
                "A=1".into(),
                "HOME=/root".into()
            ]
        );
        let env = workload_env(
            &["PATH=/x".into(), "HOME=/h".into(), "HOSTNAME=h".into()],
            "web",
            "/root",
        );
        assert_eq!(env, vec!["PATH=/x", "HOME=/h", "HOSTNAME=h"]);
    }

    #[test]
    fn candidates_follow_execvp() {
        assert_eq!(exec_candidates("/bin/sh", "/a:/b"), vec!["/bin/sh"]);
        assert_eq!(
            exec_candidates("sh", "/a:/b/:"),
            vec!["/a/sh", "/b/sh", "./sh"]
        );
    }

    #[test]
    fn rlimits_are_clamped_to_the_current_hard_limit() {
        let (_, hard_now) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let (_, soft, hard) = rlimit(&Rlimit {
            name: "NOFILE".into(),
            soft: u64::MAX,
            hard: u64::MAX,
        })
        .unwrap();
        assert_eq!((soft, hard), (hard_now, hard_now));
        assert!(matches!(
            rlimit(&Rlimit {
                name: "bogus".into(),
                soft: 1,
                hard: 1
            }),
            Err(SetupError::UnknownRlimit { .. })
        ));
    }
}
