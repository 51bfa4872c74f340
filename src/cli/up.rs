//! `compose up`: resolve images (pulling missing ones), plan against the
//! project's state, perform the plan; without `-d`, attach (`attach.rs`):
//! follow the logs until every container has exited, a cascade
//! (`--abort-on-container-exit`) or Ctrl-C stops the project.

use super::session::{timeout, to_observed_with_images, Session};
use super::steps::{self, StepOptions};
use super::GlobalArgs;
use crate::model::service::PullPolicy;
use crate::plan::{plan_up, UpOptions};
use compose_runtime::project::OnFailure;
use indexmap::IndexMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Don't start the services after creating them
    #[arg(long)]
    pub no_start: bool,
    /// Seconds to wait for containers to stop before killing them
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Recreate containers even if their configuration hasn't changed
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances (overrides `scale` in the Compose file)
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Wait for services to be running|healthy (one-shot services: exited 0). Implies detached mode
    #[arg(long)]
    pub wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long, value_name = "SECONDS", requires = "wait")]
    pub wait_timeout: Option<u64>,
    /// Print the plan instead of performing it
    #[arg(long)]
    pub dry_run: bool,
    /// Don't start linked services (only the SERVICEs named)
    #[arg(long)]
    pub no_deps: bool,
    #[command(flatten)]
    pub attached: super::attach::AttachArgs,
    /// Build images before starting containers
    #[arg(long, conflicts_with = "no_build")]
    pub build: bool,
    #[command(flatten)]
    pub images: ImageFlags,
    /// Recreate dependent containers (the services the named ones depend on)
    #[arg(long, conflicts_with = "no_recreate")]
    pub always_recreate_deps: bool,
    /// Recreate anonymous volumes instead of retrieving data from the previous containers
    #[arg(short = 'V', long)]
    pub renew_anon_volumes: bool,
    /// Assume "yes" as answer to all prompts and run non-interactively
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Watch source code and rebuild/refresh containers when files are updated
    #[arg(short = 'w', long, conflicts_with_all = ["detach", "wait", "no_build"])]
    pub watch: bool,
    pub services: Vec<String>,
}

/// How `up` and `create` find images.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ImageFlags {
    /// Pull image before running ("always"|"missing"|"never"|"build"), over each service's pull_policy
    #[arg(long, value_name = "POLICY", value_parser = parse_pull)]
    pub pull: Option<PullPolicy>,
    /// Don't build an image, even if it's missing
    #[arg(long)]
    pub no_build: bool,
    /// Pull without printing progress information
    #[arg(long)]
    pub quiet_pull: bool,
}

impl ImageFlags {
    pub fn choice(&self) -> steps::ImageChoice {
        steps::ImageChoice {
            pull: self.pull,
            no_build: self.no_build,
            quiet_pull: self.quiet_pull,
        }
    }
}

fn parse_pull(text: &str) -> Result<PullPolicy, String> {
    Ok(match text {
        "always" => PullPolicy::Always,
        "missing" | "if_not_present" => PullPolicy::Missing,
        "never" => PullPolicy::Never,
        "build" => PullPolicy::Build,
        other => {
            return Err(format!(
                "{other:?} is not a pull policy: use always, missing, never or build"
            ))
        }
    })
}

pub fn run(global: &GlobalArgs, args: &UpArgs) -> anyhow::Result<ExitCode> {
    let mut session = Session::load(global, &args.services)?;
    if args.no_deps && !args.services.is_empty() {
        super::scale::set_aside_dependencies(&mut session, &args.services);
    }
    let names: Vec<String> = session.project.services.keys().cloned().collect();
    args.attached.validate(args.detach, &names)?;
    if args.watch {
        super::watch::check(&session.project, &args.services)?;
    }
    // docker compose: `--force-recreate` is for the services named (all
    // when none is), their dependencies are recreated only when they
    // changed, or always with `--always-recreate-deps`.
    let mut recreate_services = std::collections::BTreeSet::new();
    if args.force_recreate && !args.services.is_empty() {
        recreate_services.extend(args.services.iter().cloned());
    }
    if args.always_recreate_deps {
        recreate_services.extend(dependencies_of(&session, &args.services));
    }
    let opts = UpOptions {
        force_recreate: args.force_recreate && args.services.is_empty(),
        no_recreate: args.no_recreate,
        no_start: args.no_start,
        remove_orphans: args.remove_orphans,
        scale: parse_scale(&args.scale, &session)?,
        recreate_services,
    };
    let services: Vec<_> = session.project.services.values().collect();
    if args.build {
        super::build::build_all(&session, &services, &Default::default())?;
    }
    let images = steps::resolve_images_with(&session, &services, &args.images.choice())?;
    let lock = session.dir.lock()?;
    let snap = session.snapshot()?;
    let observed = to_observed_with_images(&snap, &images);
    let plan = plan_up(&session.project, &observed, &opts)?;
    if args.dry_run {
        print!("{plan}");
        return Ok(ExitCode::SUCCESS);
    }
    for w in &plan.warnings {
        crate::ui::warn(w);
    }
    // `compose ls` shows them (docker compose: the config_files label).
    compose_runtime::project::listing::record_config_files(&session.dir, &session.config_files)?;
    let step_opts = StepOptions {
        timeout: timeout(args.timeout),
        // `-V`: a recreated container takes its anonymous volumes along,
        // so its successor starts with fresh ones.
        volumes: args.renew_anon_volumes,
    };
    let (steps, notes) = steps::steps(&session, &plan, &images, &snap, step_opts)?;
    for note in &notes {
        crate::ui::warn(&note.to_string());
    }
    session.apply(&steps, OnFailure::Stop)?;
    drop(lock);
    super::up_wait::warn_failed_optional(&session, &steps)?;
    if args.wait && !args.no_start {
        let selected: Vec<String> = session.project.services.keys().cloned().collect();
        let limit = args.wait_timeout.map(std::time::Duration::from_secs);
        super::up_wait::wait(&session, &selected, limit)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.detach || args.no_start {
        return Ok(ExitCode::SUCCESS);
    }
    // `--watch`: watching beside the attached logs, until `up` returns.
    let watch = match args.watch {
        true => Some(super::watch::spawn(global, &args.services)?),
        false => None,
    };
    let recreating = || watch.as_ref().is_some_and(|w| w.recreating());
    super::attach::run_holding(
        &session,
        &args.attached,
        &args.services,
        args.timeout,
        &recreating,
    )
}

/// `--always-recreate-deps`: the services the named ones depend on (the
/// session holds the named services and their dependencies), or every
/// service that another depends on when none is named.
fn dependencies_of(session: &Session, named: &[String]) -> std::collections::BTreeSet<String> {
    let services = &session.project.services;
    if named.is_empty() {
        return services
            .values()
            .flat_map(|s| s.depends_on.keys().cloned())
            .collect();
    }
    services
        .keys()
        .filter(|name| !named.contains(name))
        .cloned()
        .collect()
}

/// `--scale web=3` entries.
fn parse_scale(items: &[String], session: &Session) -> anyhow::Result<IndexMap<String, usize>> {
    let mut scale = IndexMap::new();
    for item in items {
        let (name, n) = item
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--scale {item:?}: expected SERVICE=NUM"))?;
        if !session.project.services.contains_key(name) {
            anyhow::bail!("--scale {item:?}: no such service: {name}");
        }
        let n: usize = n
            .parse()
            .map_err(|_| anyhow::anyhow!("--scale {item:?}: {n:?} is not a number"))?;
        scale.insert(name.to_string(), n);
    }
    Ok(scale)
}
