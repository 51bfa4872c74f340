//! The build loop: plan the stages, then run each stage's instructions in
//! order against its layers and config, consulting the cache before every
//! filesystem step, and commit the target stage as the image.

use super::copy::{self, Attrs, CopyStep};
use super::error::{io, ExecError};
use super::layers::{commit, store_upper, Layers};
use super::run::{self, RunStep};
use super::store::{CacheEntry, CacheStore};
use super::{BuildNetwork, BuildRequest, Builder, Built, Event};
use crate::build::cache::{cache_key, digest_entries, CacheInputs};
use crate::build::config::{join_workdir, Outcome, Stage};
use crate::build::context::{
    select, walk_context, ContextEntry, IgnoreRules, PatternSet, SelectError,
};
use crate::build::dockerfile::{
    self, Command, CommandLine, Copy, Dockerfile, Instruction, Location, Run,
};
use crate::build::expand::{BuildInputs, GlobalScope};
use crate::build::plan::{plan, Base, PlannedStage};
use crate::build::BuildError;
use crate::image::digest::Digest;
use crate::image::oci::{ImageConfig, Platform};
use crate::image::registry::{self, NoProgress, PullOptions};
use crate::image::{Image, Reference};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A finished stage: its layers, full image config and last cache key.
#[derive(Debug, Clone)]
struct StageResult {
    layers: Layers,
    config: ImageConfig,
    key: Option<Digest>,
}

/// Everything a build shares across its stages.
struct Ctx<'a, 'p> {
    b: &'a Builder<'a>,
    req: &'a BuildRequest,
    df: &'a Dockerfile,
    cache: CacheStore,
    scratch: PathBuf,
    listing: Option<Vec<ContextEntry>>,
    rules: IgnoreRules,
    results: HashMap<usize, StageResult>,
    progress: &'p mut dyn FnMut(Event),
    executed: usize,
    cached: usize,
    steps: usize,
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
    let scratch = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(&tmp_root)
        .map_err(io("create a directory in", &tmp_root))?;
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
    };
    let _adding = b.store.adding()?;
    for stage in &planned.stages {
        let result = cx.stage(stage, &global, &inputs)?;
        cx.results.insert(stage.index, result);
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

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Ctx<'_, '_> {
    fn at(&self, line: usize) -> Location {
        Location {
            file: self.df.file.clone(),
            line,
        }
    }

    fn stage(
        &mut self,
        planned: &PlannedStage,
        global: &GlobalScope,
        inputs: &BuildInputs,
    ) -> Result<StageResult, ExecError> {
        let df_stage = &self.df.stages[planned.index];
        let mut result = self.base(planned, df_stage.line)?;
        let mut stage =
            Stage::from_base(&self.df.file, result.config.config.clone(), global, inputs);
        let label = planned
            .name
            .clone()
            .unwrap_or_else(|| format!("stage-{}", planned.index));
        let total = df_stage.instructions.len();
        for (n, ins) in df_stage.instructions.iter().enumerate() {
            self.steps += 1;
            (self.progress)(Event::Step {
                stage: label.clone(),
                step: n + 1,
                total,
                instruction: ins.source.clone(),
            });
            let started = Instant::now();
            let outcome = stage.apply(ins).map_err(BuildError::from)?;
            match outcome {
                Outcome::ConfigOnly | Outcome::Trigger(_) => {
                    result.key = Some(self.key(&result, &stage, &ins.source, &[]));
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
    fn image(&self, name: &str, line: usize) -> Result<Image, ExecError> {
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
            Prepared::Run(r) => (r.text.clone(), Vec::new()),
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
        &self,
        r: &Run,
        stage: &Stage<'_>,
        ins: &Instruction,
    ) -> Result<RunPrep, ExecError> {
        let at = self.at(ins.line);
        if !r.mounts.is_empty() {
            return Err(ExecError::Unsupported {
                at,
                what: "RUN --mount".into(),
            });
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
        let step = RunStep {
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
        };
        run::run(step, lowers, work, self.b.init, self.progress)
    }

    fn prepare_copy(
        &mut self,
        c: &Copy,
        is_add: bool,
        result: &StageResult,
        stage: &Stage<'_>,
        ins: &Instruction,
    ) -> Result<CopyPrep, ExecError> {
        let at = self.at(ins.line);
        let ex = |e| {
            BuildError::Config(crate::build::config::ConfigError::Expand {
                at: at.clone(),
                source: e,
            })
        };
        if c.parents {
            return Err(ExecError::Unsupported {
                at,
                what: "COPY --parents".into(),
            });
        }
        let sources: Vec<String> = c
            .sources
            .iter()
            .map(|s| stage.scope.expand(s))
            .collect::<Result<_, _>>()
            .map_err(ex)?;
        if is_add {
            if let Some(url) = sources
                .iter()
                .find(|s| s.contains("://") || s.starts_with("git@"))
            {
                return Err(ExecError::Unsupported {
                    at,
                    what: format!("ADD from a URL or git repository (`{url}`)"),
                });
            }
        }
        let dest_raw = stage.scope.expand(&c.dest).map_err(ex)?;
        let workdir = stage
            .config
            .working_dir
            .clone()
            .unwrap_or_else(|| "/".into());
        let mut dest = join_workdir(&workdir, &dest_raw);
        if (dest_raw.ends_with('/') || dest_raw == "." || dest_raw.ends_with("/."))
            && !dest.ends_with('/')
        {
            dest.push('/');
        }
        let lowers = result.layers.lowers();
        let owner = match &c.chown {
            Some(spec) => {
                let spec = stage.scope.expand(spec).map_err(ex)?;
                Some(
                    copy::parse_chown(&spec, &lowers).map_err(|reason| ExecError::Chown {
                        at: at.clone(),
                        spec,
                        reason,
                    })?,
                )
            }
            None => None,
        };
        let mode = match &c.chmod {
            Some(spec) => {
                let spec = stage.scope.expand(spec).map_err(ex)?;
                Some(copy::parse_chmod(&spec).ok_or_else(|| ExecError::Chmod {
                    at: at.clone(),
                    spec: spec.clone(),
                })?)
            }
            None => None,
        };
        let excludes: Vec<String> = c
            .exclude
            .iter()
            .map(|s| stage.scope.expand(s))
            .collect::<Result<_, _>>()
            .map_err(ex)?;
        let exclude = PatternSet::new(&excludes).map_err(|e| {
            BuildError::Select(SelectError::BadPattern {
                path: e.pattern.clone(),
                reason: e.reason.clone(),
            })
        })?;
        let inline: Vec<(String, String)> = c
            .heredocs
            .iter()
            .map(|h| {
                let body = if h.expand {
                    stage.scope.expand_heredoc(&h.content)
                } else {
                    Ok(h.content.clone())
                };
                body.map(|b| (h.name.clone(), b))
            })
            .collect::<Result<_, _>>()
            .map_err(ex)?;
        let mut text = format!(
            "{}\nsources={sources:?} dest={dest} owner={owner:?} mode={mode:?} exclude={excludes:?} inline={inline:?}",
            ins.command.keyword()
        );
        let (src, listing, files) = match &c.from {
            Some(from) => {
                let from = stage.scope.expand(from).map_err(ex)?;
                let (layers, key) = self.source_of(&from, ins.line)?;
                text.push_str(&format!(
                    "\nfrom={}",
                    key.map(|k| k.to_string()).unwrap_or_default()
                ));
                (Source::Layers(layers, from), None, Vec::new())
            }
            None => {
                if self.listing.is_none() {
                    self.listing = Some(
                        walk_context(&self.req.context, &self.rules).map_err(BuildError::from)?,
                    );
                }
                (Source::Context, self.listing.clone(), Vec::new())
            }
        };
        let mut prep = CopyPrep {
            text,
            files,
            src,
            sources,
            exclude,
            inline,
            dest,
            attrs: Attrs { owner, mode },
            extract: is_add,
            selections: Vec::new(),
        };
        if let Some(listing) = listing {
            for s in &prep.sources {
                let sel = select(&listing, s, &prep.exclude).map_err(BuildError::Select)?;
                prep.files.extend(
                    digest_entries(&self.req.context, &sel.entries).map_err(BuildError::from)?,
                );
                prep.selections.push(sel);
            }
        }
        Ok(prep)
    }

    /// The layers `COPY --from` reads and the key that identifies them.
    fn source_of(&self, from: &str, line: usize) -> Result<(Layers, Option<Digest>), ExecError> {
        let index = from.parse::<usize>().ok().or_else(|| {
            let lower = from.to_ascii_lowercase();
            self.df
                .stages
                .iter()
                .position(|s| s.name() == Some(lower.as_str()))
        });
        if let Some(r) = index.and_then(|i| self.results.get(&i)) {
            return Ok((r.layers.clone(), r.key.clone()));
        }
        let image = self.image(from, line)?;
        Ok((
            Layers::of_image(self.b.store, &image)?,
            Some(image.id.clone()),
        ))
    }

    fn copy(
        &mut self,
        mut c: CopyPrep,
        ins: &Instruction,
        lowers: &[PathBuf],
        work: &Path,
    ) -> Result<PathBuf, ExecError> {
        let at = self.at(ins.line);
        let upper = work.join("upper");
        std::fs::create_dir_all(&upper).map_err(io("create", &upper))?;
        let view;
        let src_root = match &c.src {
            Source::Context => self.req.context.clone(),
            Source::Layers(layers, from) => {
                view = MergedView::new(layers, &work.join("from"))?;
                let listing =
                    walk_context(&view.path, &IgnoreRules::default()).map_err(BuildError::from)?;
                for s in &c.sources {
                    let sel = select(&listing, s, &c.exclude).map_err(|e| match e {
                        SelectError::NotFound { path } => ExecError::FromNotFound {
                            at: at.clone(),
                            from: from.clone(),
                            path,
                        },
                        other => BuildError::Select(other).into(),
                    })?;
                    c.selections.push(sel);
                }
                view.path.clone()
            }
        };
        let step = CopyStep {
            at: &at,
            src_root: &src_root,
            selections: c.selections,
            inline: c.inline,
            dest: c.dest,
            attrs: c.attrs,
            extract: c.extract,
        };
        copy::copy(&step, &upper, lowers)?;
        Ok(upper)
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
}

enum Source {
    Context,
    /// A stage's or image's layers, and the `--from` value.
    Layers(Layers, String),
}

struct CopyPrep {
    text: String,
    files: Vec<(String, Digest)>,
    src: Source,
    sources: Vec<String>,
    exclude: PatternSet,
    inline: Vec<(String, String)>,
    dest: String,
    attrs: Attrs,
    extract: bool,
    selections: Vec<crate::build::context::Selection>,
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

/// A read-only view of a layer stack: the layer itself when there is one,
/// an overlay of them otherwise (a lowerdir-only overlay needs two).
struct MergedView {
    path: PathBuf,
    mounted: bool,
}

impl MergedView {
    fn new(layers: &Layers, at: &Path) -> Result<MergedView, ExecError> {
        std::fs::create_dir_all(at).map_err(io("create", at))?;
        let lowers = layers.lowers();
        match lowers.len() {
            0 => Ok(MergedView {
                path: at.to_path_buf(),
                mounted: false,
            }),
            1 => Ok(MergedView {
                path: lowers[0].clone(),
                mounted: false,
            }),
            _ => {
                let dirs: Vec<String> = lowers.iter().map(|l| l.display().to_string()).collect();
                let opts = format!("lowerdir={}", dirs.join(":"));
                nix::mount::mount(
                    Some("overlay"),
                    at,
                    Some("overlay"),
                    nix::mount::MsFlags::MS_RDONLY,
                    Some(opts.as_str()),
                )
                .map_err(|e| ExecError::Io {
                    action: "mount the stage's layers at",
                    path: at.to_path_buf(),
                    source: e.into(),
                })?;
                Ok(MergedView {
                    path: at.to_path_buf(),
                    mounted: true,
                })
            }
        }
    }
}

impl Drop for MergedView {
    fn drop(&mut self) {
        if self.mounted {
            let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}
