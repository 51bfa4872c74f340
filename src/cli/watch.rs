//! `compose watch [--no-up] [--prune] [--quiet] [SERVICE...]` and the
//! watching half of `compose up --watch`: bring the project up (unless
//! `--no-up`; the images of services with `build:` and `develop:` are
//! built first, as docker compose gives them `pull_policy: build`), run
//! the `initial_sync`s, then turn file changes into the `develop.watch`
//! actions until Ctrl-C, which stops watching and leaves the project up
//! (docker compose's `Watch`). The decisions are `crate::watch`'s, the
//! file events and copies `compose_runtime::watch`'s; `watch/actions.rs`
//! performs a batch.

mod actions;

use super::build::BuildOptions;
use super::session::Session;
use super::GlobalArgs;
use crate::watch::rules::bind_mounted;
use crate::watch::{plan_batch, rules_for, watched_services, Debouncer, Rule};
use compose_runtime::build::context::IgnoreRules;
use compose_runtime::container::InitProgram;
use compose_runtime::project::interrupt::Interrupts;
use compose_runtime::watch::{FileWatcher, WatchLock};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Do not build & start services before watching
    #[arg(long)]
    pub no_up: bool,
    /// Prune dangling images on rebuild (--prune=false keeps them)
    #[arg(long, default_value_t = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub prune: bool,
    /// Hide build output
    #[arg(long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

/// How a watch rebuilds.
#[derive(Debug, Clone, Copy)]
pub struct WatchOptions {
    pub prune: bool,
    pub quiet: bool,
}

impl Default for WatchOptions {
    fn default() -> WatchOptions {
        WatchOptions {
            prune: true,
            quiet: false,
        }
    }
}

/// How long one wait for file events lasts when no batch is pending:
/// how soon Ctrl-C or a stop request is noticed.
const IDLE: Duration = Duration::from_millis(100);

/// Above this many changed paths in one batch, docker compose says why
/// the batch may take a while.
const LARGE_BATCH: usize = 1000;

pub fn run(global: &GlobalArgs, args: &WatchArgs) -> anyhow::Result<ExitCode> {
    // Before any thread starts, so every thread inherits the blocked mask.
    let mut interrupts = Interrupts::catch()?;
    let session = Session::load(global, &args.services)?;
    check(&session.project, &args.services)?;
    let _lock = WatchLock::take(&session.root, &session.project.name)?;
    let opts = WatchOptions {
        prune: args.prune,
        quiet: args.quiet,
    };
    if !args.no_up {
        up(global, &session, &args.services, opts)?;
    }
    // Ctrl-C while the project came up: it stays up, nothing is watched.
    if interrupts.pending() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut watch = Watch::start(global.clone(), session, &args.services, opts)?;
    loop {
        if interrupts.pending() {
            watch.log("Watch disabled");
            return Ok(ExitCode::SUCCESS);
        }
        watch.step()?;
    }
}

/// The selection can be watched (for `up --watch` before it starts
/// anything).
pub fn check(project: &crate::model::Project, named: &[String]) -> anyhow::Result<()> {
    watched_services(project, named)?;
    Ok(())
}

/// `up -d` of the selection, after building the images of the services
/// that have both `build:` and `develop:`.
fn up(
    global: &GlobalArgs,
    session: &Session,
    named: &[String],
    opts: WatchOptions,
) -> anyhow::Result<()> {
    let services: Vec<_> = session
        .project
        .services
        .values()
        .filter(|s| s.build.is_some() && s.develop.is_some())
        .collect();
    let build = BuildOptions {
        quiet: opts.quiet,
        ..Default::default()
    };
    super::build::build_all(session, &services, &build)?;
    let mut argv = vec!["-d".to_string()];
    argv.extend(named.iter().cloned());
    actions::run_up(global, &argv)
}

/// A running watch: the rules, the file events and the pending batch.
pub struct Watch {
    global: GlobalArgs,
    session: Session,
    rules: Vec<Rule>,
    files: FileWatcher,
    debouncer: Debouncer,
    opts: WatchOptions,
    init: InitProgram,
    /// Set while a rebuild recreates containers (`up --watch` reads it).
    recreating: Option<Arc<AtomicBool>>,
}

impl Watch {
    /// Read the rules of the watched services, sync what `initial_sync`
    /// asks for, start watching; prints `Watch enabled`.
    pub fn start(
        global: GlobalArgs,
        session: Session,
        named: &[String],
        opts: WatchOptions,
    ) -> anyhow::Result<Watch> {
        let mut rules = Vec::new();
        let mut paths: Vec<PathBuf> = Vec::new();
        for service in watched_services(&session.project, named)? {
            let ignore = match crate::watch::rules::build_context(service) {
                Some(context) => Some(dockerignore(&context, service)?),
                None => None,
            };
            for rule in rules_for(service, ignore)? {
                let path = &rule.trigger.path;
                if rule.is_sync() && bind_mounted(path, service) {
                    crate::ui::warn(&format!(
                        "path '{path}' also declared by a bind mount volume, this path won't be monitored!"
                    ));
                } else {
                    paths.push(PathBuf::from(path));
                }
                rules.push(rule);
            }
        }
        let watch = Watch {
            files: FileWatcher::new(&paths)?,
            global,
            session,
            rules,
            debouncer: Debouncer::default(),
            opts,
            init: InitProgram::current_exe(),
            recreating: None,
        };
        watch.initial_syncs()?;
        watch.log("Watch enabled");
        Ok(watch)
    }

    /// Wait a little for file events; perform the batch once it is due.
    /// A batch that fails is reported and watching goes on.
    pub fn step(&mut self) -> anyhow::Result<()> {
        let wait = self.debouncer.wait(Instant::now(), IDLE).min(IDLE);
        for path in self.files.next(wait)? {
            self.debouncer.push(path, Instant::now());
        }
        if let Some(batch) = self.debouncer.take_due(Instant::now()) {
            if batch.len() > LARGE_BATCH {
                self.log("Large batch of file changes detected. If you just switched branches, this is expected.");
            }
            let plan = plan_batch(&self.rules, &batch);
            if let Err(e) = self.perform(&plan) {
                crate::ui::warn(&format!("Error handling changed files: {e:#}"));
            }
        }
        Ok(())
    }

    /// A line of the watch, as docker compose's `⦿` logger prints it.
    pub fn log(&self, line: &str) {
        log(line);
    }
}

pub fn log(line: &str) {
    println!("{} {line}", console::style("⦿").green().bright());
}

/// The build context's ignore patterns (`<Dockerfile>.dockerignore`, else
/// `.dockerignore`).
fn dockerignore(
    context: &Path,
    service: &crate::model::ServiceConfig,
) -> anyhow::Result<compose_runtime::build::context::PatternSet> {
    let dockerfile = service
        .build
        .as_ref()
        .map(|b| b.dockerfile.as_str())
        .filter(|d| !d.is_empty())
        .unwrap_or("Dockerfile");
    Ok(IgnoreRules::load(context, Some(Path::new(dockerfile)))?.patterns)
}

/// `up --watch`: a watch on its own thread while `up` follows the logs;
/// dropping it stops the watch.
pub struct Background {
    stop: Arc<AtomicBool>,
    recreating: Arc<AtomicBool>,
    /// Released when `up` ends.
    _lock: WatchLock,
}

impl Background {
    /// Whether a rebuild is recreating containers now.
    pub fn recreating(&self) -> bool {
        self.recreating.load(Ordering::SeqCst)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Start watching `named` (all when empty) on a thread of its own. An
/// error of the watch is printed and ends watching, not `up`.
pub fn spawn(global: &GlobalArgs, named: &[String]) -> anyhow::Result<Background> {
    let session = Session::load(global, named)?;
    let lock = WatchLock::take(&session.root, &session.project.name)?;
    let stop = Arc::new(AtomicBool::new(false));
    let recreating = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let busy = recreating.clone();
    let global = global.clone();
    let named = named.to_vec();
    std::thread::Builder::new()
        .name("watch".into())
        .spawn(move || {
            // Ctrl-C is the attached `up`'s to read: this thread and the
            // file watcher's must never take it.
            let _ = compose_runtime::watch::block_interrupts();
            let result =
                Watch::start(global, session, &named, WatchOptions::default()).and_then(|mut w| {
                    w.recreating = Some(busy);
                    while !flag.load(Ordering::SeqCst) {
                        w.step()?;
                    }
                    Ok(())
                });
            if let Err(e) = result {
                crate::ui::warn(&format!("Watch disabled with errors: {e:#}"));
            }
        })?;
    Ok(Background {
        stop,
        recreating,
        _lock: lock,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> super::WatchArgs {
        let argv = ["compose", "watch"].iter().chain(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Watch(w) => w,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_are_docker_composes() {
        let w = parse(&[]);
        assert!(w.prune && !w.no_up && !w.quiet && w.services.is_empty());
        let w = parse(&["--prune=false", "--no-up", "--quiet", "web", "api"]);
        assert!(!w.prune && w.no_up && w.quiet);
        assert_eq!(w.services, ["web", "api"]);
        assert!(
            parse(&["--prune", "web"]).prune,
            "a bare --prune takes no value"
        );
        assert_eq!(parse(&["--prune", "web"]).services, ["web"]);
    }
}
