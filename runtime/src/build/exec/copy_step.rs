//! COPY and ADD steps of the build loop: expanding the instruction's
//! sources, destination and flags in the stage's scope, selecting the
//! context files (or a stage's or image's files for `--from`) and hashing
//! them for the cache key, then writing the copy into a fresh upper dir.

use super::copy::{self, Attrs, CopyStep};
use super::driver::{Ctx, StageResult};
use super::error::{io, ExecError};
use super::layers::Layers;
use crate::build::cache::digest_entries;
use crate::build::config::{join_workdir, Stage};
use crate::build::context::{
    select, walk_context, ContextEntry, IgnoreRules, PatternSet, SelectError,
};
use crate::build::dockerfile::{Copy, Instruction};
use crate::build::BuildError;
use crate::image::digest::Digest;
use std::path::{Path, PathBuf};

impl Ctx<'_, '_> {
    /// The build context's files after `.dockerignore`, walked once.
    pub(super) fn context_listing(&mut self) -> Result<Vec<ContextEntry>, ExecError> {
        if self.listing.is_none() {
            self.listing =
                Some(walk_context(&self.req.context, &self.rules).map_err(BuildError::from)?);
        }
        Ok(self.listing.clone().unwrap_or_default())
    }

    pub(super) fn prepare_copy(
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
            None => (Source::Context, Some(self.context_listing()?), Vec::new()),
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

    pub(super) fn copy(
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

pub(super) enum Source {
    Context,
    /// A stage's or image's layers, and the `--from` value.
    Layers(Layers, String),
}

pub(super) struct CopyPrep {
    /// What the cache key hashes besides the files.
    pub(super) text: String,
    /// Context files read, with their content digests.
    pub(super) files: Vec<(String, Digest)>,
    src: Source,
    sources: Vec<String>,
    exclude: PatternSet,
    inline: Vec<(String, String)>,
    dest: String,
    attrs: Attrs,
    extract: bool,
    selections: Vec<crate::build::context::Selection>,
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
