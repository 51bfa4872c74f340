//! Performing one batch's plan, in docker compose's order: rebuild (build
//! the images, then recreate the containers as `up -d --no-deps
//! --force-recreate SERVICE...` does, then prune the images the rebuild
//! left dangling), sync, restart, then the `sync+exec` commands.

use super::Watch;
use crate::model::hooks::ServiceHook;
use crate::watch::plan::{quoted_list, rebuild_message, sync_message};
use crate::watch::{BatchPlan, Mapping};
use compose_runtime::container::Status;
use compose_runtime::image::{ImageStore, Reference};
use compose_runtime::project::hooks::{self, Hook};
use compose_runtime::project::ObservedContainer;
use compose_runtime::watch::{files_under, sync_container, SyncEntry};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

/// `compose up ARGS` within this process.
pub fn run_up(global: &super::GlobalArgs, args: &[String]) -> anyhow::Result<()> {
    #[derive(clap::Parser)]
    struct Up {
        #[command(flatten)]
        args: super::super::up::UpArgs,
    }
    let parsed = <Up as clap::Parser>::try_parse_from(
        std::iter::once("up".to_string()).chain(args.iter().cloned()),
    )?;
    super::super::up::run(global, &parsed.args)?;
    Ok(())
}

impl Watch {
    pub(super) fn perform(&self, plan: &BatchPlan) -> anyhow::Result<()> {
        if !plan.rebuild.is_empty() {
            self.rebuild(&plan.rebuild)?;
        }
        for (service, mappings) in &plan.sync {
            self.log(&sync_message(service, mappings.len()));
            self.sync(service, mappings)?;
        }
        if !plan.restart.is_empty() {
            let services: Vec<String> = plan.restart.iter().cloned().collect();
            let _lock = self.session.dir.lock()?;
            super::super::lifecycle::stop(&self.session, &services, None, false)?;
            super::super::lifecycle::start(&self.session, &services)?;
            self.log(&format!(
                "service(s) {} restarted",
                quoted_list(&plan.restart)
            ));
        }
        for (service, indexes) in &plan.exec {
            for &i in indexes {
                self.exec(service, &self.rules[i].trigger.exec)?;
            }
        }
        Ok(())
    }

    /// The running containers of `service`.
    fn running(&self, service: &str) -> anyhow::Result<Vec<ObservedContainer>> {
        let snap = self.session.snapshot()?;
        Ok(snap
            .containers
            .into_iter()
            .filter(|c| c.record.service == service && c.record.number != 0)
            .filter(|c| c.status() == Status::Running)
            .collect())
    }

    /// Copy the mappings whose host path exists, delete the others, in
    /// every running container of `service`; every container is tried.
    fn sync(&self, service: &str, mappings: &[Mapping]) -> anyhow::Result<()> {
        let mut copies = Vec::new();
        let mut deleted = Vec::new();
        for m in mappings {
            let Some(container) = &m.container else {
                continue;
            };
            match std::fs::symlink_metadata(&m.host) {
                Ok(_) => copies.push(SyncEntry {
                    host: m.host.clone(),
                    container: container.clone(),
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    deleted.push(container.clone())
                }
                Err(e) => anyhow::bail!("cannot read {}: {e}", m.host.display()),
            }
        }
        let mut failures = Vec::new();
        for c in self.running(service)? {
            if let Err(e) = sync_container(&c, &copies, &deleted, &self.init) {
                failures.push(e.to_string());
            }
        }
        if !failures.is_empty() {
            anyhow::bail!("{}", failures.join("; "));
        }
        Ok(())
    }

    /// `initial_sync`: every file of each sync rule's path that no ignore
    /// rule skips, before watching starts.
    pub(super) fn initial_syncs(&self) -> anyhow::Result<()> {
        for rule in self.rules.iter().filter(|r| r.is_sync()) {
            let legacy = rule.trigger.extensions.get("x-initialSync")
                == Some(&serde_json::Value::Bool(true));
            if legacy && !rule.trigger.initial_sync {
                crate::ui::warn(
                    "x-initialSync is DEPRECATED, please use the official `initial_sync` attribute",
                );
            }
            if !(rule.trigger.initial_sync || legacy) {
                continue;
            }
            let root = std::path::Path::new(&rule.trigger.path);
            let files = files_under(root, &|p| rule.ignores(p))?;
            let mappings: Vec<Mapping> = files.iter().filter_map(|f| rule.map(f)).collect();
            self.sync(&rule.service, &mappings)?;
        }
        Ok(())
    }

    /// Build the services' images, recreate their containers, prune.
    fn rebuild(&self, services: &BTreeSet<String>) -> anyhow::Result<()> {
        self.log(&rebuild_message(services));
        let store = ImageStore::open(&self.session.root)?;
        let project = &self.session.project;
        let mut replaced = Vec::new();
        let build = super::super::build::BuildOptions {
            quiet: self.opts.quiet,
            ..Default::default()
        };
        for name in services {
            let Some(service) = project.services.get(name) else {
                continue;
            };
            let reference = Reference::parse(&service.image_or_default(&project.name)).ok();
            let before = reference
                .as_ref()
                .and_then(|r| store.get(r).ok().flatten())
                .map(|i| i.id);
            let built = super::super::build::build_service(
                &self.session.root,
                &store,
                &self.init,
                project,
                service,
                &build,
            );
            match built {
                Ok(image) => replaced.extend(before.filter(|b| *b != image.id)),
                Err(e) => {
                    self.log(&format!("Build failed. Error: {e}"));
                    return Err(e.into());
                }
            }
        }
        self.log(&format!(
            "service(s) {} successfully built",
            quoted_list(services)
        ));
        let mut argv: Vec<String> = ["-d", "--no-deps", "--force-recreate"]
            .map(String::from)
            .to_vec();
        argv.extend(services.iter().cloned());
        let _recreating = self.recreating.as_deref().map(Flag::raise);
        if let Err(e) = run_up(&self.global, &argv) {
            self.log(&format!(
                "Failed to recreate services after update. Error: {e:#}"
            ));
            return Err(e);
        }
        if self.opts.prune {
            self.prune(&store, &replaced)?;
        }
        Ok(())
    }

    /// Remove the images a rebuild replaced, once nothing names them and
    /// no container of the project uses them (docker compose prunes the
    /// project's dangling images after a rebuild).
    fn prune(
        &self,
        store: &ImageStore,
        replaced: &[compose_runtime::image::digest::Digest],
    ) -> anyhow::Result<()> {
        if replaced.is_empty() {
            return Ok(());
        }
        let snap = self.session.snapshot()?;
        for id in replaced {
            let text = id.to_string();
            let in_use = snap.containers.iter().any(|c| c.record.image_id == text);
            let dangling = store
                .list()?
                .iter()
                .any(|r| r.config == *id && r.tags.is_empty());
            if dangling && !in_use {
                store.remove(&text, false)?;
            }
        }
        Ok(())
    }

    /// `sync+exec`: the rule's command in every running container.
    fn exec(&self, service: &str, hook: &ServiceHook) -> anyhow::Result<()> {
        let hook = Hook {
            command: hook.command.clone().unwrap_or_default(),
            user: hook.user.clone(),
            working_dir: hook.working_dir.clone(),
            environment: hook
                .environment
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("")))
                .collect(),
            privileged: hook.privileged,
        };
        for c in self.running(service)? {
            hooks::run(
                &c.record,
                &c.dir,
                "watch exec",
                std::slice::from_ref(&hook),
                &self.init,
            )?;
        }
        Ok(())
    }
}

/// A flag raised until dropped.
struct Flag<'a>(&'a AtomicBool);

impl<'a> Flag<'a> {
    fn raise(flag: &'a AtomicBool) -> Flag<'a> {
        flag.store(true, Ordering::SeqCst);
        Flag(flag)
    }
}

impl Drop for Flag<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}
