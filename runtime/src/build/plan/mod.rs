//! Stage resolution: which stages a build needs and in what order, and the
//! base image of each (BuildKit `dockerfile2llb` `toDispatchState`).
//!
//! A stage depends on another through `FROM <earlier stage>`, `COPY
//! --from=<stage name or index>` and `RUN --mount=from=<stage>`. Only the
//! stages the target (`--target`, else the last stage) reaches are built;
//! `FROM` names an image unless an *earlier* stage has that name (so
//! `FROM node AS node` is the image); `--from` may name any stage, and a
//! cycle is an error naming it. A `--from` that is no stage is an image.
//! `--from` values are expanded with the stage's ARG and ENV (base image
//! environment not included: it is unknown before the base is pulled).

use super::dockerfile::{Command, Dockerfile, Location, Stage};
use super::expand::{BuildInputs, ExpandError, GlobalScope, StageScope};

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `FROM scratch`: an empty filesystem.
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// An image reference, ARGs expanded.
    Image(String),
}

/// One stage to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStage {
    /// Index in the Dockerfile (`Dockerfile::stages`).
    pub index: usize,
    pub name: Option<String>,
    pub base: Base,
    /// `--platform` of the FROM, expanded.
    pub platform: Option<String>,
    /// Stages this one needs built first (FROM, --from, mounts), sorted.
    pub stage_deps: Vec<usize>,
    /// Images this one reads besides its base (`COPY --from=image`).
    pub image_deps: Vec<String>,
}

/// The stages to build, dependencies first, ending with the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPlan {
    pub stages: Vec<PlannedStage>,
    /// Index of the target stage in the Dockerfile.
    pub target: usize,
}

impl BuildPlan {
    /// Every image the build needs (bases and `--from` images), once each,
    /// in build order.
    pub fn images(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.stages {
            let base = match &s.base {
                Base::Image(i) => Some(i.as_str()),
                _ => None,
            };
            for image in base
                .into_iter()
                .chain(s.image_deps.iter().map(String::as_str))
            {
                if !out.contains(&image) {
                    out.push(image);
                }
            }
        }
        out
    }

    /// The planned stage with Dockerfile index `index`.
    pub fn stage(&self, index: usize) -> Option<&PlannedStage> {
        self.stages.iter().find(|s| s.index == index)
    }
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("target stage `{target}` could not be found in {file}{}", match suggestion {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => format!(" (stages: {})", if stages.is_empty() { "none named".to_string() } else { stages.join(", ") }),
    })]
    UnknownTarget {
        file: String,
        target: String,
        suggestion: Option<String>,
        stages: Vec<String>,
    },
    #[error("{at}: {source}")]
    Expand { at: Location, source: ExpandError },
    #[error("{at}: FROM expands to an empty image name (`{written}`); is the ARG it uses set?")]
    EmptyImage { at: Location, written: String },
    #[error("{at}: --from={from} must be the index of an earlier stage (this is stage {current}) or a stage or image name")]
    BadStageIndex {
        at: Location,
        from: String,
        /// Index of the stage holding the instruction.
        current: usize,
    },
    #[error("circular dependency between stages: {}", cycle.join(" -> "))]
    Cycle { cycle: Vec<String> },
}

/// Plan the build of `target` (None: the last stage).
pub fn plan(
    df: &Dockerfile,
    inputs: &BuildInputs,
    target: Option<&str>,
) -> Result<BuildPlan, PlanError> {
    let global = GlobalScope::new(df, inputs).map_err(|e| PlanError::Expand {
        at: Location {
            file: df.file.clone(),
            line: e.line,
        },
        source: e.source,
    })?;
    let target = match target {
        None => df.stages.len() - 1,
        Some(t) => find_target(df, t)?,
    };
    let mut resolved = Vec::with_capacity(df.stages.len());
    for i in 0..df.stages.len() {
        resolved.push(resolve_stage(df, i, &global, inputs)?);
    }
    let mut order = Vec::new();
    let mut path = Vec::new();
    visit(df, &resolved, target, &mut path, &mut order)?;
    Ok(BuildPlan {
        stages: order.into_iter().map(|i| resolved[i].clone()).collect(),
        target,
    })
}

fn find_target(df: &Dockerfile, target: &str) -> Result<usize, PlanError> {
    let lower = target.to_ascii_lowercase();
    if let Some(i) = df.stages.iter().position(|s| s.name() == Some(&lower)) {
        return Ok(i);
    }
    let names: Vec<String> = df
        .stages
        .iter()
        .filter_map(|s| s.name().map(str::to_string))
        .collect();
    let suggestion = names
        .iter()
        .map(|n| (strsim::levenshtein(n, &lower), n))
        .filter(|(d, n)| *d <= 2 && *d < n.len())
        .min()
        .map(|(_, n)| n.clone());
    Err(PlanError::UnknownTarget {
        file: df.file.clone(),
        target: target.to_string(),
        suggestion,
        stages: names,
    })
}

fn resolve_stage(
    df: &Dockerfile,
    index: usize,
    global: &GlobalScope,
    inputs: &BuildInputs,
) -> Result<PlannedStage, PlanError> {
    let stage = &df.stages[index];
    let at = |line| Location {
        file: df.file.clone(),
        line,
    };
    let expand_err = |line| {
        move |source| PlanError::Expand {
            at: at(line),
            source,
        }
    };
    let image = global
        .expand(&stage.from.image)
        .map_err(expand_err(stage.line))?;
    let platform = stage
        .from
        .platform
        .as_ref()
        .map(|p| global.expand(p))
        .transpose()
        .map_err(expand_err(stage.line))?;
    let base = if image.eq_ignore_ascii_case("scratch") {
        Base::Scratch
    } else if let Some(i) = df.stages[..index]
        .iter()
        .rposition(|s| s.name() == Some(&image.to_ascii_lowercase()))
    {
        Base::Stage(i)
    } else if image.is_empty() {
        return Err(PlanError::EmptyImage {
            at: at(stage.line),
            written: stage.from.image.clone(),
        });
    } else {
        Base::Image(image)
    };
    let mut planned = PlannedStage {
        index,
        name: stage.name().map(str::to_string),
        base,
        platform,
        stage_deps: Vec::new(),
        image_deps: Vec::new(),
    };
    if let Base::Stage(i) = planned.base {
        planned.stage_deps.push(i);
    }
    for (line, from) in from_references(&df.file, stage, global, inputs)? {
        match stage_by_reference(df, index, &from) {
            Some(Ok(i)) => planned.stage_deps.push(i),
            Some(Err(())) => {
                return Err(PlanError::BadStageIndex {
                    at: at(line),
                    from,
                    current: index,
                })
            }
            None if !planned.image_deps.contains(&from) => planned.image_deps.push(from),
            None => {}
        }
    }
    planned.stage_deps.sort_unstable();
    planned.stage_deps.dedup();
    Ok(planned)
}

/// The expanded `--from` values of the stage's COPY and RUN mounts.
fn from_references(
    file: &str,
    stage: &Stage,
    global: &GlobalScope,
    inputs: &BuildInputs,
) -> Result<Vec<(usize, String)>, PlanError> {
    let mut scope = StageScope::new(global, inputs, Vec::new());
    let mut out = Vec::new();
    for ins in &stage.instructions {
        let err = |source| PlanError::Expand {
            at: Location {
                file: file.to_string(),
                line: ins.line,
            },
            source,
        };
        let raw: Vec<String> = match &ins.command {
            Command::Arg(d) => {
                scope.declare_args(d).map_err(err)?;
                continue;
            }
            Command::Env(kv) => {
                scope.set_env(kv).map_err(err)?;
                continue;
            }
            Command::Copy(c) => c.from.iter().cloned().collect(),
            Command::Run(r) => r.mounts.iter().filter_map(|m| mount_from(m)).collect(),
            _ => continue,
        };
        for r in raw {
            out.push((ins.line, scope.expand(&r).map_err(err)?));
        }
    }
    Ok(out)
}

/// The `from=` of a `--mount` spec (`type=bind,from=build,source=/x`).
pub fn mount_from(spec: &str) -> Option<String> {
    spec.split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim() == "from")
        .map(|(_, v)| v.trim().to_string())
}

/// A `--from` value as a stage: by index, which must name an earlier
/// stage (Some(Err) otherwise, as BuildKit refuses it), or by name; None
/// when it is an image.
fn stage_by_reference(df: &Dockerfile, current: usize, from: &str) -> Option<Result<usize, ()>> {
    if let Ok(i) = from.parse::<usize>() {
        return Some(if i < current { Ok(i) } else { Err(()) });
    }
    let lower = from.to_ascii_lowercase();
    df.stages
        .iter()
        .position(|s| s.name() == Some(&lower))
        .map(Ok)
}

/// Depth-first post-order from `i`: dependencies first, each stage once.
fn visit(
    df: &Dockerfile,
    stages: &[PlannedStage],
    i: usize,
    path: &mut Vec<usize>,
    order: &mut Vec<usize>,
) -> Result<(), PlanError> {
    if order.contains(&i) {
        return Ok(());
    }
    if let Some(pos) = path.iter().position(|p| *p == i) {
        let label = |s: usize| {
            df.stages[s]
                .name()
                .map_or_else(|| s.to_string(), str::to_string)
        };
        let mut cycle: Vec<String> = path[pos..].iter().map(|s| label(*s)).collect();
        cycle.push(label(i));
        return Err(PlanError::Cycle { cycle });
    }
    path.push(i);
    for dep in &stages[i].stage_deps {
        visit(df, stages, *dep, path, order)?;
    }
    path.pop();
    order.push(i);
    Ok(())
}

#[cfg(test)]
mod tests;
