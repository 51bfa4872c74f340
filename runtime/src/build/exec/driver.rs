//! The build loop: plan the stages, then run each stage's instructions in
//! order against its layers and config, consulting the cache before every
//! filesystem step, and commit the target stage as the image.

use super::copy_step::CopyPrep;
use super::error::{io, ExecError};
use super::layers::{commit, store_upper, Layers};
use super::mounts::{self, RunMount};
use super::run::{self, RunStep};
use super::secrets;
use super::store::{CacheEntry, CacheStore};
use super::{BuildNetwork, BuildRequest, Builder, Built, Event};
use crate::build::cache::{cache_key, digest_entries, CacheInputs};
use crate::build::config::{Outcome, Stage};
use crate::build::context::{select, ContextEntry, IgnoreRules, PatternSet};
use crate::build::dockerfile::{
    self, Command, CommandLine, Dockerfile, Instruction, Location, Run,
};
use crate::build::expand::{BuildInputs, GlobalScope};
use crate::build::plan::{plan, Base, PlannedStage};
use crate::build::BuildError;
use crate::image::digest::Digest;
use crate::image::lock::{lock, try_lock_exclusive};
use crate::image::oci::{ImageConfig, Platform};
use crate::image::registry::{self, NoProgress, PullOptions};
use crate::image::{Image, Reference};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A finished stage: its layers, full image config and last cache key.
#[derive(Debug, Clone)]
pub(super) struct StageResult {
    pub(super) layers: Layers,
    pub(super) config: ImageConfig,
    pub(super) key: Option<Digest>,
}

/// Everything a build shares across its stages.
pub(super) struct Ctx<'a, 'p> {
    pub(super) b: &'a Builder<'a>,
    pub(super) req: &'a BuildRequest,
    pub(super) df: &'a Dockerfile,
    pub(super) cache: CacheStore,
    pub(super) scratch: PathBuf,
    pub(super) listing: Option<Vec<ContextEntry>>,
    pub(super) rules: IgnoreRules,
    pub(super) results: HashMap<usize, StageResult>,
    pub(super) progress: &'p mut dyn FnMut(Event),
    pub(super) executed: usize,
    pub(super) cached: usize,
    pub(super) steps: usize,
    /// Stages being built, outermost first (a trigger's dependency must
    /// not be one of them).
    pub(super) building: Vec<usize>,
    /// The build's network, made by the first RUN on the default network
    /// (inner `None`: the host resolves only through loopback, so RUN uses
    /// the host's namespace); removed when the build ends.
    pub(super) net: Option<Option<super::net::BuildNet>>,
}

/// Build `req` into the store; nothing is tagged unless it all succeeds.
pub fn build(
    b: &Builder<'_>,
    req: &BuildRequest,
    progress: &mut dyn FnMut(Event),
) -> Result<Built, ExecError> {
    let name = req.dockerfile_path.display().to_string();
    let df = dockerfile::parse(&name, &req.dockerfile_text).map_err(BuildError::from)?;
    let inputs = BuildInputs::new(req.build_args.clone());
    let planned = plan(&df, &inputs, req.target.as_deref()).map_err(BuildError::from)?;
    let global = GlobalScope::new(&df, &inputs).map_err(BuildError::from)?;
    let rules =
        IgnoreRules::load(&req.context, Some(&req.dockerfile_path)).map_err(BuildError::from)?;
    let tmp_root = b.root.join("build-tmp");
    std::fs::create_dir_all(&tmp_root).map_err(io("create", &tmp_root))?;
    sweep_stale(&tmp_root);
    let scratch = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(&tmp_root)
        .map_err(io("create a directory in", &tmp_root))?;
    // Held for the whole build: a later build sweeps the directory only
    // once this process is gone (killed mid-build).
    let alive = scratch.path().join(LOCK);
    let _alive = lock(&alive, true).map_err(|e| ExecError::Io {
        action: "lock",
        path: e.path,
        source: e.source,
    })?;
    let mut cx = Ctx {
        b,
        req,
        df: &df,
        cache: CacheStore::new(&b.root),
        scratch: scratch.path().to_path_buf(),
        listing: None,
        rules,
        results: HashMap::new(),
        progress,
        executed: 0,
        cached: 0,
        steps: 0,
        building: Vec::new(),
        net: None,
    };
    let _adding = b.store.adding()?;
    for stage in &planned.stages {
        // A trigger's dependency may have been built already.
        if !cx.results.contains_key(&stage.index) {
            let result = cx.stage(stage, &global, &inputs)?;
            cx.results.insert(stage.index, result);
        }
    }
    let mut result = cx.results.remove(&planned.target).expect("target built");
    result.config.config.labels.extend(req.labels.clone());
    let (id, manifest) = commit(b.store, result.config, &result.layers, &req.tags)?;
    Ok(Built {
        id,
        manifest,
        executed: cx.executed,
        cached: cx.cached,
    })
}

/// The lock file of a build's scratch directory.
const LOCK: &str = ".alive";

/// Scratch directories older than this whose lock is free belong to a
/// build that died; younger ones may not have taken their lock yet.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Remove the scratch directories that killed builds left behind.
fn sweep_stale(tmp_root: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp_root) else {
        return;
    };
    for dir in entries.flatten().map(|e| e.path()) {
        let old = std::fs::metadata(&dir)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if !old {
            continue;
        }
        if let Ok(Some(_held)) = try_lock_exclusive(&dir.join(LOCK)) {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Ctx<'_, '_> {
    pub(super) fn at(&self, line: usize) -> Location {
        Location {
            file: self.df.file.clone(),
            line,
        }
    }

    pub(super) fn stage(
        &mut self,
        planned: &PlannedStage,
        global: &GlobalScope,
        inputs: &BuildInputs,
    ) -> Result<StageResult, ExecError> {
        let df_stage = &self.df.stages[planned.index];
        let mut result = self.base(planned, df_stage.line)?;
        // The base's ONBUILD triggers run first, as part of this stage, and
        // are not inherited further (Dockerfile reference, ONBUILD; BuildKit
        // runs those of a FROM stage too).
        let triggers = self.triggers(&mut result.config, df_stage.line)?;
        self.building.push(planned.index);
        let built = self.trigger_deps(&triggers, global, inputs);
        self.building.pop();
        built?;
        let mut stage =
            Stage::from_base(&self.df.file, result.config.config.clone(), global, inputs);
        let label = planned
            .name
            .clone()
            .unwrap_or_else(|| format!("stage-{}", planned.index));
        let total = triggers.len() + df_stage.instructions.len();
        let all = triggers.iter().chain(df_stage.instructions.iter());
        for (n, ins) in all.enumerate() {
            self.steps += 1;
            let shown = if n < triggers.len() {
                format!("ONBUILD {}", ins.source)
            } else {
                ins.source.clone()
            };
            (self.progress)(Event::Step {
                stage: label.clone(),
                step: n + 1,
                total,
                instruction: shown,
            });
            let started = Instant::now();
            let outcome = stage.apply(ins).map_err(BuildError::from)?;
            match outcome {
                Outcome::ConfigOnly => {
                    result.key = Some(self.key(&result, &stage, &ins.source, &[]));
                    push_history(&mut result.config, ins, None);
                }
                Outcome::Trigger(trigger) => {
                    // The whole trigger, heredoc bodies included, is what
                    // the image records: the key must change with it.
                    let text = format!("ONBUILD {trigger}");
                    stage.config.on_build.push(trigger);
                    result.key = Some(self.key(&result, &stage, &text, &[]));
                    push_history(&mut result.config, ins, None);
                }
                Outcome::Author(name) => {
                    result.key = Some(self.key(&result, &stage, &ins.source, &[]));
                    result.config.extra.insert("author".into(), json!(name));
                    push_history(&mut result.config, ins, None);
                }
                Outcome::Execute => self.execute(&mut result, &stage, ins)?,
            }
            (self.progress)(Event::Done {
                millis: started.elapsed().as_millis(),
            });
        }
        result.config.config = stage.config;
        Ok(result)
    }

    fn key(
        &self,
        result: &StageResult,
        stage: &Stage<'_>,
        instruction: &str,
        files: &[(String, Digest)],
    ) -> Digest {
        cache_key(&CacheInputs {
            parent: result.key.as_ref(),
            instruction,
            build_args: &stage.scope.args(),
            files,
        })
    }

    /// The starting point of a stage.
    fn base(&mut self, planned: &PlannedStage, line: usize) -> Result<StageResult, ExecError> {
        match &planned.base {
            Base::Scratch => {
                let host = Platform::host();
                Ok(StageResult {
                    layers: Layers::default(),
                    config: ImageConfig {
                        architecture: host.architecture,
                        os: host.os,
                        variant: host.variant,
                        ..ImageConfig::default()
                    },
                    key: None,
                })
            }
            Base::Stage(i) => Ok(self.results[i].clone()),
            Base::Image(name) => {
                let image = self.image(name, line)?;
                Ok(StageResult {
                    layers: Layers::of_image(self.b.store, &image)?,
                    config: image.config.clone(),
                    key: Some(image.id.clone()),
                })
            }
        }
    }

    /// An image from the store, pulled when missing.
    pub(super) fn image(&self, name: &str, line: usize) -> Result<Image, ExecError> {
        let reference = Reference::parse(name).map_err(|source| ExecError::BadImage {
            at: self.at(line),
            image: name.to_string(),
            source: Box::new(source),
        })?;
        let unavailable = |source| ExecError::BaseImage {
            at: self.at(line),
            image: name.to_string(),
            source: Box::new(source),
        };
        // `--pull`: refresh the base from its registry first (docker build
        // --pull); otherwise the stored image is used as it is.
        if self.req.pull {
            registry::pull(
                self.b.store,
                &reference,
                &PullOptions::default(),
                &NoProgress,
            )
            .map_err(unavailable)?;
        }
        if let Some(image) = self.b.store.get(&reference)? {
            return Ok(image);
        }
        registry::ensure(
            self.b.store,
            &reference,
            &PullOptions::default(),
            &NoProgress,
        )
        .map_err(unavailable)
    }

    /// RUN, COPY or ADD, from the cache when its key is known.
    fn execute(
        &mut self,
        result: &mut StageResult,
        stage: &Stage<'_>,
        ins: &Instruction,
    ) -> Result<(), ExecError> {
        let prepared = match &ins.command {
            Command::Run(r) => Prepared::Run(self.prepare_run(r, stage, ins)?),
            Command::Copy(c) => {
                Prepared::Copy(Box::new(self.prepare_copy(c, false, result, stage, ins)?))
            }
            Command::Add(c) => {
                Prepared::Copy(Box::new(self.prepare_copy(c, true, result, stage, ins)?))
            }
            _ => unreachable!("only RUN, COPY and ADD execute"),
        };
        let (text, files) = match &prepared {
            Prepared::Run(r) => (r.text.clone(), r.files.clone()),
            Prepared::Copy(c) => (c.text.clone(), c.files.clone()),
        };
        let key = self.key(result, stage, &text, &files);
        if !self.req.no_cache {
            if let Some(entry) = self.cache.get(&key, self.b.store) {
                (self.progress)(Event::Cached);
                self.cached += 1;
                return self.apply(result, ins, key, entry);
            }
        }
        let lowers = result.layers.lowers();
        let work = self.scratch.join(format!("step-{}", self.steps));
        let upper = match prepared {
            Prepared::Run(r) => self.run(r, stage, ins, &lowers, &work)?,
            Prepared::Copy(c) => self.copy(*c, ins, &lowers, &work)?,
        };
        let layer = store_upper(self.b.store, &lowers, &upper, &self.scratch)?;
        let _ = std::fs::remove_dir_all(&work);
        self.executed += 1;
        let entry = CacheEntry {
            layer,
            created: now(),
        };
        self.cache.put(&key, &entry);
        self.apply(result, ins, key, entry)
    }

    fn apply(
        &mut self,
        result: &mut StageResult,
        ins: &Instruction,
        key: Digest,
        entry: CacheEntry,
    ) -> Result<(), ExecError> {
        if let Some(layer) = entry.layer {
            result.layers.push(self.b.store, layer)?;
        }
        result.key = Some(key);
        push_history(&mut result.config, ins, Some(&entry.created));
        if entry.created.as_str() > result.config.created.as_deref().unwrap_or("") {
            result.config.created = Some(entry.created);
        }
        Ok(())
    }

    fn prepare_run(
        &mut self,
        r: &Run,
        stage: &Stage<'_>,
        ins: &Instruction,
    ) -> Result<RunPrep, ExecError> {
        let at = self.at(ins.line);
        let mut mounts = Vec::new();
        let mut files = Vec::new();
        for spec in &r.mounts {
            let spec = stage.scope.expand(spec).map_err(|source| {
                BuildError::Config(crate::build::config::ConfigError::Expand {
                    at: at.clone(),
                    source,
                })
            })?;
            let m = mounts::parse(&spec, &at)?;
            if let RunMount::Bind { source, .. } = &m {
                // What a bind mount shows is read by the step: its content
                // is part of the cache key, as for COPY.
                let listing = self.context_listing()?;
                let sel =
                    select(&listing, source, &PatternSet::default()).map_err(BuildError::Select)?;
                files.extend(
                    digest_entries(&self.req.context, &sel.entries).map_err(BuildError::from)?,
                );
            }
            mounts.push(m);
        }
        if r.security.as_deref() == Some("insecure") {
            return Err(ExecError::Unsupported {
                at,
                what: "RUN --security=insecure".into(),
            });
        }
        let network = match r.network.as_deref() {
            Some("none") => BuildNetwork::None,
            Some("host") => BuildNetwork::Host,
            _ => self.req.network,
        };
        let argv = if r.is_heredoc_script() {
            let mut v = stage.shell();
            v.push(r.heredocs[0].content.clone());
            v
        } else {
            match &r.command {
                CommandLine::Exec(v) => v.clone(),
                CommandLine::Shell(s) => {
                    // BuildKit feeds heredoc bodies after the command line,
                    // each closed by its delimiter, as a shell reads them.
                    let mut script = s.clone();
                    for doc in &r.heredocs {
                        script.push('\n');
                        script.push_str(&doc.content);
                        script.push_str(&doc.name);
                    }
                    stage.argv(&CommandLine::Shell(script))
                }
            }
        };
        let mut text = ins.source.clone();
        for doc in &r.heredocs {
            text.push('\n');
            text.push_str(&doc.content);
        }
        text.push_str(&format!("\nnetwork={network:?}"));
        Ok(RunPrep {
            argv,
            network,
            text,
            mounts,
            files,
        })
    }

    fn run(
        &mut self,
        r: RunPrep,
        stage: &Stage<'_>,
        ins: &Instruction,
        lowers: &[PathBuf],
        work: &Path,
    ) -> Result<PathBuf, ExecError> {
        let at = self.at(ins.line);
        let mut lowers = lowers.to_vec();
        if lowers.is_empty() {
            let empty = self.scratch.join("empty");
            std::fs::create_dir_all(&empty).map_err(io("create", &empty))?;
            lowers.push(empty);
        }
        let mut step = RunStep {
            at: &at,
            argv: r.argv,
            env: stage
                .scope
                .run_env()
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            cwd: stage
                .config
                .working_dir
                .clone()
                .unwrap_or_else(|| "/".into()),
            user: stage.config.user.clone().unwrap_or_default(),
            network: r.network,
            mounts: Vec::new(),
        };
        for m in &r.mounts {
            step.mounts
                .extend(mounts::to_container(m, &self.b.root, &self.req.context)?);
        }
        let secrets = secrets::materialise(
            &r.mounts,
            &self.req.secrets,
            &work.with_extension("secrets"),
            &at,
        )?;
        step.mounts.extend(secrets.mounts.iter().cloned());
        step.env.extend(secrets.env.iter().cloned());
        if step.network == BuildNetwork::Bridge && self.net.is_none() {
            self.net = Some(super::net::BuildNet::create(
                &self.b.root,
                &self.scratch,
                &at,
            )?);
        }
        let net = self.net.as_ref().and_then(Option::as_ref);
        let upper = run::run(step, lowers, work, self.b.init, net, self.progress);
        drop(secrets);
        upper
    }
}

enum Prepared {
    Run(RunPrep),
    Copy(Box<CopyPrep>),
}

struct RunPrep {
    argv: Vec<String>,
    network: BuildNetwork,
    /// What the cache key hashes.
    text: String,
    mounts: Vec<RunMount>,
    /// Context files bind-mounted into the step.
    files: Vec<(String, Digest)>,
}

fn push_history(config: &mut ImageConfig, ins: &Instruction, layer_created: Option<&str>) {
    let created = layer_created
        .map(str::to_string)
        .or_else(|| config.created.clone())
        .unwrap_or_default();
    let mut h = serde_json::Map::new();
    if !created.is_empty() {
        h.insert("created".into(), json!(created));
    }
    h.insert("created_by".into(), json!(ins.source));
    h.insert("comment".into(), json!("buildkit.dockerfile.v0"));
    let is_layer_step = matches!(
        ins.command,
        Command::Run(_) | Command::Copy(_) | Command::Add(_)
    );
    if !is_layer_step {
        h.insert("empty_layer".into(), json!(true));
    }
    config.history.push(serde_json::Value::Object(h));
}
