//! `pre_start` hooks (Compose spec, services `pre_start`): one-shot init
//! containers run to completion, in order, after the service's container
//! was created and before it starts. Each runs from its own image (the
//! service's when the Compose file names none: the loader fills it in),
//! with the image's ENTRYPOINT and the hook's `command` (else the image's
//! CMD), the hook's `user`/`working_dir` (else the image's), the image's
//! environment under the service's and the hook's, and `privileged` as
//! docker compose's `createPreStartContainer` sets it. It shares the
//! container's mounts (docker compose passes `VolumesFrom`) and network
//! namespace, which [`super::join::join`] made before, so it reaches the
//! services the container depends on by name.
//!
//! A hook that exits non-zero stops the start: the error names the
//! service, the hook's index and its exit code, with the tail of its
//! output (stderr preferred), as docker compose's `preStartResultErr`.
//! Hooks that all succeeded are not run again for the same container (a
//! later `start` or a restart), only for a new one (the spec's "a step runs
//! again ... when the service is recreated"): a marker file in the
//! container's state directory says so. Stopping or removing the
//! container while a hook runs ends the hook ([`abort`]), so a hung
//! migration never outlives a `down`.

use super::{ContainerRecord, ProjectDir, ProjectError};
use crate::container::spec::{RootfsSpec, SecuritySpec, DEFAULT_PATH};
use crate::container::{Container, ContainerError, ContainerSpec, ExitStatus, InitProgram};
use crate::image::ImageStore;
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Written in the container's state directory once every hook succeeded.
const DONE_FILE: &str = "pre_start.done";

/// One `pre_start` hook, as the CLI resolved it from the Compose file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreStartHook {
    /// The image reference the hook container runs from.
    pub image: String,
    /// Empty: the image's CMD.
    #[serde(default)]
    pub command: Vec<String>,
    /// Empty: the image's user.
    #[serde(default)]
    pub user: String,
    /// Empty: the image's working directory.
    #[serde(default)]
    pub working_dir: String,
    /// `KEY=value`: the service's environment, then the hook's, over the
    /// image's.
    #[serde(default)]
    pub environment: Vec<String>,
    #[serde(default)]
    pub privileged: bool,
}

/// Run `record`'s `pre_start` hooks before its container starts with
/// `spec` (already joined to its networks), unless they succeeded for this
/// container before.
pub fn run(
    project: &ProjectDir,
    record: &ContainerRecord,
    dir: &Path,
    spec: &ContainerSpec,
    init: &InitProgram,
) -> Result<(), ProjectError> {
    let hooks = &record.hooks.pre_start;
    if hooks.is_empty() || dir.join(DONE_FILE).exists() {
        return Ok(());
    }
    let active = Active::register(dir);
    for (index, hook) in hooks.iter().enumerate() {
        if active.aborted() {
            return Err(ProjectError::PreStartAborted {
                service: record.service.clone(),
                container: record.name.clone(),
                index,
            });
        }
        let hook_spec = hook_spec(project.root(), record, index, hook, spec)?;
        run_one(
            record,
            index,
            &hook_spec,
            &hook_dir(dir, index),
            init,
            &active,
        )?;
    }
    let marker = dir.join(DONE_FILE);
    std::fs::write(&marker, b"").map_err(ProjectError::io("write", &marker))
}

/// The containers whose hooks run in this process (the supervisor), each
/// with its abort flag: `stop`/`rm`/`down` of the container ends a hook
/// that would otherwise never finish.
static ACTIVE: Mutex<BTreeMap<PathBuf, Arc<AtomicBool>>> = Mutex::new(BTreeMap::new());

/// One container's hooks running; unregistered when dropped.
struct Active {
    dir: PathBuf,
    abort: Arc<AtomicBool>,
}

impl Active {
    fn register(dir: &Path) -> Active {
        let abort = Arc::new(AtomicBool::new(false));
        if let Ok(mut active) = ACTIVE.lock() {
            active.insert(dir.to_path_buf(), abort.clone());
        }
        Active {
            dir: dir.to_path_buf(),
            abort,
        }
    }

    fn aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        if let Ok(mut active) = ACTIVE.lock() {
            active.remove(&self.dir);
        }
    }
}

/// How often a running hook's wait looks at its abort flag.
const ABORT_POLL: Duration = Duration::from_millis(100);

/// Where hook `index`'s container keeps its state: inside the service
/// container's directory, so observing the project never lists it and
/// removing the container removes what a crash left of it.
fn hook_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("pre_start-{index}"))
}

/// The hook container's spec: the service container's mounts, network
/// namespace and /etc files; the hook image's root filesystem and process.
fn hook_spec(
    compose_root: &Path,
    record: &ContainerRecord,
    index: usize,
    hook: &PreStartHook,
    base: &ContainerSpec,
) -> Result<ContainerSpec, ProjectError> {
    let image = ImageStore::open(compose_root)
        .and_then(|store| store.find(&hook.image))
        .map_err(|source| ProjectError::HookImage {
            service: record.service.clone(),
            index,
            image: hook.image.clone(),
            source: Box::new(source),
        })?;
    let config = &image.config.config;
    let mut spec = ContainerSpec::new(
        // Unique per hook: the id names the container's cgroup.
        &format!("{}-pre_start-{index}", record.name),
        Vec::new(),
        Vec::new(),
    );
    spec.hostname = base.hostname.clone();
    spec.domainname = base.domainname.clone();
    spec.rootfs = RootfsSpec {
        lower_dirs: image.layer_dirs.iter().rev().cloned().collect(),
        read_only: false,
    };
    spec.mounts = base.mounts.clone();
    spec.etc = base.etc.clone();
    spec.network = base.network.clone();
    spec.security = SecuritySpec {
        privileged: hook.privileged,
        ..SecuritySpec::default()
    };
    let command = if hook.command.is_empty() {
        config.cmd.clone().unwrap_or_default()
    } else {
        hook.command.clone()
    };
    spec.process.args = config
        .entrypoint
        .clone()
        .unwrap_or_default()
        .into_iter()
        .chain(command)
        .collect();
    spec.process.env = merge_env(&config.env, &hook.environment);
    spec.process.user = first_set(&hook.user, config.user.as_deref());
    spec.process.cwd = Some(first_set(&hook.working_dir, config.working_dir.as_deref()))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/".to_string());
    Ok(spec)
}

fn first_set(hook: &str, image: Option<&str>) -> String {
    if hook.is_empty() {
        image.unwrap_or_default().to_string()
    } else {
        hook.to_string()
    }
}

/// `over` entries replace `base`'s of the same key in place, new keys are
/// appended; PATH defaults to Docker's (the engine's merge of a
/// container's `Env` over its image's).
fn merge_env(base: &[String], over: &[String]) -> Vec<String> {
    let key = |e: &str| e.split('=').next().unwrap_or(e).to_string();
    let mut env = base.to_vec();
    for entry in over {
        let k = key(entry);
        match env.iter_mut().find(|e| key(e) == k) {
            Some(slot) => slot.clone_from(entry),
            None => env.push(entry.clone()),
        }
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    env
}

/// Run one hook container to its end and remove it; a non-zero exit is
/// the error, with the tail of what it printed.
fn run_one(
    record: &ContainerRecord,
    index: usize,
    spec: &ContainerSpec,
    dir: &Path,
    init: &InitProgram,
    active: &Active,
) -> Result<(), ProjectError> {
    remove_leftover(dir);
    let container = match Container::create(spec, dir, init) {
        Ok(c) => c,
        Err(e) => {
            remove_leftover(dir);
            return Err(e.into());
        }
    };
    let exit = wait(&container, active);
    let log = std::fs::read_to_string(container.log_path()).unwrap_or_default();
    // Removed whatever happened: its output is in the error, and a kept
    // container would hold the service's mounts.
    let removed = container.remove();
    let exit = exit?;
    removed?;
    if active.aborted() {
        return Err(ProjectError::PreStartAborted {
            service: record.service.clone(),
            container: record.name.clone(),
            index,
        });
    }
    if exit.code == 0 {
        return Ok(());
    }
    Err(ProjectError::PreStart {
        service: record.service.clone(),
        container: record.name.clone(),
        index,
        code: exit.code,
        output: output_tail(&log),
    })
}

/// Wait for a hook container's end; once its run is aborted, kill it
/// (again until it is gone: it may not have recorded its init yet).
fn wait(container: &Container, active: &Active) -> Result<ExitStatus, ContainerError> {
    loop {
        if let Some(exit) = container.wait_timeout(ABORT_POLL)? {
            return Ok(exit);
        }
        if active.aborted() {
            let _ = container.kill(Signal::SIGKILL);
        }
    }
}

/// End the hooks of the container whose state is in `dir`: it is being
/// stopped or removed while a hook still runs (a hung migration). A run in
/// this process is told to stop and awaited (it kills and removes its hook
/// container, and its start fails); what a crashed run left is removed.
/// So no hook container outlives its service's container.
pub fn abort(dir: &Path) {
    let flag = ACTIVE.lock().ok().and_then(|a| a.get(dir).cloned());
    if let Some(flag) = flag {
        flag.store(true, Ordering::SeqCst);
        while ACTIVE.lock().is_ok_and(|a| a.contains_key(dir)) {
            std::thread::sleep(ABORT_POLL / 5);
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("pre_start-")
        {
            remove_leftover(&entry.path());
        }
    }
}

/// What an interrupted earlier run left in `dir` (a crash between create
/// and remove).
fn remove_leftover(dir: &Path) {
    if !dir.exists() {
        return;
    }
    match Container::load(dir) {
        Ok(c) => {
            let _ = c.remove();
        }
        Err(_) => {
            let _ = crate::container::create::remove_state_dir(dir);
        }
    }
}

/// The last lines of a hook container's log: its stderr when it wrote
/// any, else its stdout (docker compose's stderr-biased tail).
fn output_tail(log: &str) -> String {
    use crate::container::log::{parse_log, Stream};
    let entries = parse_log(log).unwrap_or_default();
    let of = |stream: Stream| -> String {
        entries
            .iter()
            .filter(|e| e.stream == stream)
            .map(|e| e.log.as_str())
            .collect()
    };
    let stderr = of(Stream::Stderr);
    let text = if stderr.trim().is_empty() {
        of(Stream::Stdout)
    } else {
        stderr
    };
    super::hooks::tail(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hooks_environment_goes_over_the_images_in_place() {
        let image = ["PATH=/bin".to_string(), "A=image".into(), "B=image".into()];
        let over = ["B=service".to_string(), "C=hook".into()];
        assert_eq!(
            merge_env(&image, &over),
            ["PATH=/bin", "A=image", "B=service", "C=hook"]
        );
        assert_eq!(
            merge_env(&[], &["X=1".into()]),
            [format!("PATH={DEFAULT_PATH}"), "X=1".into()]
        );
    }

    #[test]
    fn the_tail_prefers_stderr() {
        let line = |stream: &str, text: &str| {
            format!(
                "{{\"time\":\"2024-01-01T00:00:00Z\",\"stream\":\"{stream}\",\"log\":\"{text}\\n\"}}\n"
            )
        };
        let both = line("stdout", "out") + &line("stderr", "bad thing");
        assert_eq!(output_tail(&both), "bad thing");
        assert_eq!(output_tail(&line("stdout", "only out")), "only out");
    }
}
