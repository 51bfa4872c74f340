//! `compose pull [SERVICE...]`: pull the images of the project's services
//! into the bundled runtime's store, several images at once, each with its
//! own progress line. Which images is decided first, as data
//! ([`plan::plan`]); this file only loads the project and runs the pulls.

mod plan;
pub(crate) mod progress;

use super::GlobalArgs;
use compose_runtime::image::registry::{pull, PullOptions};
use compose_runtime::image::ImageStore;
use plan::{Job, Policy};
use std::process::ExitCode;
use std::sync::Mutex;

/// How many images download at once (each with its own parallel layer
/// downloads); docker compose's default is unlimited, which on a large
/// project mostly contends for the same link.
const PARALLEL_IMAGES: usize = 4;

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Pull without printing progress information
    #[arg(short, long)]
    pub quiet: bool,
    /// Pull what it can and ignores images with pull failures
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Also pull services declared as dependencies
    #[arg(long)]
    pub include_deps: bool,
    /// Ignore images that can be built
    #[arg(long)]
    pub ignore_buildable: bool,
    /// Apply pull policy ("missing"|"always")
    #[arg(long, value_parser = ["missing", "always"])]
    pub policy: Option<String>,
    /// Services to pull (default: all)
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &PullArgs) -> anyhow::Result<ExitCode> {
    let mut opts = global.loader_options()?;
    // Named services enable their profiles; pulling needs no resolved
    // env_file (docker compose loads WithoutEnvironmentResolution).
    opts.selected_services = args.services.clone();
    opts.resolve_environment = false;
    let loaded = crate::loader::load(&opts)?;
    for w in &loaded.warnings {
        crate::ui::warn(&w.to_string());
    }
    // The loader keeps named services' dependencies; `pull` drops them
    // unless `--include-deps`, as docker compose does.
    let only = if args.include_deps {
        Vec::new()
    } else {
        args.services.clone()
    };
    let policy = args.policy.as_deref().map(Policy::parse);
    let services = plan::service_images(&loaded.document, &only, policy);
    let store = ImageStore::open_default().map_err(|e| anyhow::anyhow!("{e}"))?;
    // An unreadable index counts as "absent": the pull then reports it.
    let plan = plan::plan(&services, args.ignore_buildable, &|r| {
        store.get(r).ok().flatten().is_some()
    })?;

    let board = progress::Board::new(args.quiet);
    for (service, why) in &plan.skipped {
        let image = services
            .iter()
            .find(|s| &s.service == service)
            .and_then(|s| s.image.clone());
        // docker compose shows no line for `never`/`build`.
        if let (Some(image), plan::Skip::Present | plan::Skip::Buildable) = (image, why) {
            board.skipped(&image, &why.to_string());
        }
    }
    let default_platform = loaded.environment.get("DOCKER_DEFAULT_PLATFORM");
    let failures = pull_all(&store, &plan.jobs, default_platform, &board);
    report(&failures, args.ignore_pull_failures)
}

/// A pull that failed: the job and the one-line error.
struct Failure<'a> {
    job: &'a Job,
    message: String,
}

/// Run every job, `PARALLEL_IMAGES` at a time; every job runs even when
/// one fails, so one bad image does not hide the state of the others.
fn pull_all<'a>(
    store: &ImageStore,
    jobs: &'a [Job],
    default_platform: Option<&str>,
    board: &progress::Board,
) -> Vec<Failure<'a>> {
    let queue = Mutex::new(jobs.iter().rev().collect::<Vec<_>>());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL_IMAGES.min(jobs.len()) {
            s.spawn(|| loop {
                let Some(job) = queue.lock().expect("queue").pop() else {
                    return;
                };
                if let Err(message) = pull_one(store, job, default_platform, board) {
                    failures
                        .lock()
                        .expect("failures")
                        .push(Failure { job, message });
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("failures");
    // Report in the Compose file's order, not the order pulls ended.
    failures.sort_by_key(|f| jobs.iter().position(|j| std::ptr::eq(j, f.job)));
    failures
}

fn pull_one(
    store: &ImageStore,
    job: &Job,
    default_platform: Option<&str>,
    board: &progress::Board,
) -> Result<(), String> {
    let mut opts = PullOptions::default();
    if let Some(p) = job.platform.as_deref().or(default_platform) {
        opts.platform = super::image::parse_platform(p).map_err(|e| format!("{e:#}"))?;
    }
    let bar = board.image(&job.image);
    let result = pull(store, &job.reference, &opts, &bar).map_err(|e| e.to_string());
    bar.finish(result.as_ref().err().map(String::as_str));
    result.map(|_| ())
}

/// Print each failure on one line; exit 1 unless failures are ignored.
fn report(failures: &[Failure<'_>], ignore: bool) -> anyhow::Result<ExitCode> {
    for f in failures {
        if ignore {
            crate::ui::warn(&f.message);
        } else {
            eprintln!("{} {}", console::style("error:").red().bold(), f.message);
        }
    }
    let must_build: Vec<&str> = failures
        .iter()
        .filter(|f| f.job.buildable)
        .flat_map(|f| f.job.services.iter().map(String::as_str))
        .collect();
    if !must_build.is_empty() {
        crate::ui::warn(&format!(
            "Some service image(s) must be built from source by running: compose build {}",
            must_build.join(" ")
        ));
    }
    Ok(if failures.is_empty() || ignore {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
