//! COPY and ADD steps of the build loop: expanding the instruction's
//! sources, destination and flags in the stage's scope, selecting the
//! context files (or a stage's or image's files for `--from`; with
//! `--parents` and `--exclude`) and hashing them for the cache key,
//! fetching ADD's URLs and git repositories ([`super::remote`]), then
//! writing the copy into a fresh upper dir.

use super::copy::{self, Attrs, CopyStep, Picked};
use super::driver::{Ctx, StageResult};
use super::error::{io, ExecError};
use super::layers::Layers;
use super::remote::{self, AddSource, GitRef};
use crate::build::cache::digest_entries;
use crate::build::config::{join_workdir, Stage};
use crate::build::context::{
    select, select_parents, walk_context, ContextEntry, IgnoreRules, PatternSet, SelectError,
    Selection,
};
use crate::build::dockerfile::{Copy, Instruction, Location};
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
        let expand_all = |v: &[String]| -> Result<Vec<String>, BuildError> {
            v.iter()
                .map(|s| stage.scope.expand(s))
                .collect::<Result<_, _>>()
                .map_err(ex)
        };
        let sources = expand_all(&c.sources)?;
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
        let excludes = expand_all(&c.exclude)?;
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
        let checksum = match &c.checksum {
            Some(v) => Some(stage.scope.expand(v).map_err(ex)?),
            None => None,
        };
        let mut text = format!(
            "{}\nsources={sources:?} dest={dest} owner={owner:?} mode={mode:?} exclude={excludes:?} inline={inline:?} parents={}",
            ins.command.keyword(),
            c.parents
        );
        let mut prep = CopyPrep {
            text: String::new(),
            files: Vec::new(),
            src: Source::Context,
            sources: Vec::new(),
            exclude,
            parents: c.parents,
            inline,
            dest,
            attrs: Attrs { owner, mode },
            extract: is_add,
            picked: Vec::new(),
            pending: Vec::new(),
            fetched: Vec::new(),
        };
        let kinds: Vec<AddSource> = sources
            .into_iter()
            .map(|s| {
                remote::classify(&s).map_err(|e| ExecError::Git {
                    at: at.clone(),
                    url: e.url,
                    reason: e.reason,
                })
            })
            .collect::<Result<_, _>>()?;
        if !is_add {
            // Docker: "source can't be a URL for COPY".
            if let Some(AddSource::Http(url) | AddSource::Git(GitRef { url, .. })) =
                kinds.iter().find(|k| !matches!(k, AddSource::Local(_)))
            {
                return Err(ExecError::CopyUrl {
                    at,
                    url: url.clone(),
                });
            }
        }
        let checksum = checksum
            .map(|v| self::checksum(&v, &kinds, &at))
            .transpose()?;
        for (i, kind) in kinds.into_iter().enumerate() {
            match kind {
                AddSource::Local(s) => prep.sources.push(s),
                AddSource::Http(url) => {
                    let name = remote::file_name(&url);
                    match &checksum {
                        // The digest is known: it is the key, and the file
                        // is fetched only when the step runs.
                        Some(Checksum::Digest(d)) => {
                            text.push_str(&format!("\nurl={url} checksum={d}"));
                            prep.pending.push((url, name, d.clone()));
                        }
                        _ => {
                            let dir = self.scratch.join(format!("download-{}-{i}", self.steps));
                            let got = remote::download(&url, &dir, &name, None, &at)?;
                            text.push_str(&format!(
                                "\nurl={url} digest={} last-modified={:?}",
                                got.digest, got.last_modified
                            ));
                            prep.fetched.push((name, got.path));
                        }
                    }
                }
                AddSource::Git(mut git) => {
                    git.keep_git_dir |= c.keep_git_dir;
                    if let Some(Checksum::Commit(id)) = &checksum {
                        git.commit.get_or_insert_with(|| id.clone());
                    }
                    let dir = self.scratch.join(format!("git-{}-{i}", self.steps));
                    let commit = remote::git_checkout(&git, &dir, &at)?;
                    text.push_str(&format!(
                        "\ngit={} ref={:?} subdir={:?} commit={commit} keep-git-dir={}",
                        git.url, git.reference, git.subdir, git.keep_git_dir
                    ));
                    prep.picked.push(Picked {
                        sel: self.git_selection(&git, &dir, &prep.exclude, &at)?,
                        root: dir,
                    });
                }
            }
        }
        if let Some(from) = &c.from {
            let from = stage.scope.expand(from).map_err(ex)?;
            let (layers, key) = self.source_of(&from, ins.line)?;
            text.push_str(&format!(
                "\nfrom={}",
                key.map(|k| k.to_string()).unwrap_or_default()
            ));
            prep.src = Source::Layers(layers, from);
        } else if !prep.sources.is_empty() {
            let listing = self.context_listing()?;
            for s in &prep.sources {
                let sel =
                    pick(&listing, s, &prep.exclude, prep.parents).map_err(BuildError::Select)?;
                prep.files.extend(
                    digest_entries(&self.req.context, &sel.entries).map_err(BuildError::from)?,
                );
                prep.picked.push(Picked {
                    root: self.req.context.clone(),
                    sel,
                });
            }
        }
        prep.text = text;
        Ok(prep)
    }

    /// Everything of a checkout (or its subdirectory) but `--exclude`.
    fn git_selection(
        &self,
        git: &GitRef,
        dir: &Path,
        exclude: &PatternSet,
        at: &Location,
    ) -> Result<Selection, ExecError> {
        let listing = walk_context(dir, &IgnoreRules::default()).map_err(BuildError::from)?;
        let subdir = git.subdir.as_deref().unwrap_or(".");
        let outside = subdir.split('/').any(|c| c == "..");
        let not_found = || ExecError::GitSubdir {
            at: at.clone(),
            url: git.url.clone(),
            subdir: subdir.to_string(),
        };
        if outside {
            return Err(not_found());
        }
        select(&listing, subdir, exclude).map_err(|e| match e {
            SelectError::NotFound { .. } => not_found(),
            other => BuildError::Select(other).into(),
        })
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
        if let Some(i) = index.filter(|i| *i < self.df.stages.len()) {
            // The plan builds every stage an instruction copies from
            // first, and `trigger_deps` those the base's triggers name; a
            // stage still missing could not be built before this one.
            return match self.results.get(&i) {
                Some(r) => Ok((r.layers.clone(), r.key.clone())),
                None => Err(ExecError::StageNotBuilt {
                    at: self.at(line),
                    from: from.to_string(),
                }),
            };
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
        for (i, (url, name, digest)) in c.pending.iter().enumerate() {
            let dir = work.join(format!("download-{i}"));
            let got = remote::download(url, &dir, name, Some(digest), &at)?;
            c.fetched.push((name.clone(), got.path));
        }
        let _view;
        if let Source::Layers(layers, from) = &c.src {
            let view = MergedView::new(layers, &work.join("from"))?;
            let listing =
                walk_context(&view.path, &IgnoreRules::default()).map_err(BuildError::from)?;
            for s in &c.sources {
                let sel = pick(&listing, s, &c.exclude, c.parents).map_err(|e| match e {
                    SelectError::NotFound { path } => ExecError::FromNotFound {
                        at: at.clone(),
                        from: from.clone(),
                        path,
                    },
                    other => BuildError::Select(other).into(),
                })?;
                c.picked.push(Picked {
                    root: view.path.clone(),
                    sel,
                });
            }
            _view = view;
        }
        let step = CopyStep {
            at: &at,
            picked: c.picked,
            inline: c.inline,
            fetched: c.fetched,
            dest: c.dest,
            attrs: c.attrs,
            extract: c.extract,
        };
        copy::copy(&step, &upper, lowers)?;
        Ok(upper)
    }
}

/// What `ADD --checksum` pins.
enum Checksum {
    /// The sha256 of the download(s).
    Digest(Digest),
    /// The commit the git source(s) must resolve to.
    Commit(String),
}

/// Read `--checksum=value` for the given sources: a digest for URLs, a
/// commit id for git repositories (Dockerfile reference, ADD --checksum).
fn checksum(value: &str, kinds: &[AddSource], at: &Location) -> Result<Checksum, ExecError> {
    let bad = || ExecError::BadChecksum {
        at: at.clone(),
        value: value.to_string(),
    };
    if kinds.iter().all(|k| matches!(k, AddSource::Http(_))) {
        return value.parse().map(Checksum::Digest).map_err(|_| bad());
    }
    if kinds.iter().all(|k| matches!(k, AddSource::Git(_))) {
        let id = value.strip_prefix("sha1:").unwrap_or(value);
        return if remote::is_commit_id(id) {
            Ok(Checksum::Commit(id.to_string()))
        } else {
            Err(bad())
        };
    }
    Err(ExecError::ChecksumNotUrl { at: at.clone() })
}

/// One source's selection, keeping its parents for `--parents`.
fn pick(
    listing: &[ContextEntry],
    source: &str,
    exclude: &PatternSet,
    parents: bool,
) -> Result<Selection, SelectError> {
    if parents {
        select_parents(listing, source, exclude)
    } else {
        select(listing, source, exclude)
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
    /// The local sources (context or `--from`), expanded.
    sources: Vec<String>,
    exclude: PatternSet,
    parents: bool,
    inline: Vec<(String, String)>,
    dest: String,
    attrs: Attrs,
    extract: bool,
    /// Selections made so far (context, git checkouts).
    picked: Vec<Picked>,
    /// Downloads whose `--checksum` made them part of the key: (URL, file
    /// name, expected digest), fetched when the step runs.
    pending: Vec<(String, String, Digest)>,
    /// Files already downloaded: (file name, path).
    fetched: Vec<(String, PathBuf)>,
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
