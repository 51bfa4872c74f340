//! `compose run [--rm] [-d] [-e] [-u] [-w] [--entrypoint] [--no-deps]
//! [--name] [-T] [-i] [-P|--service-ports] [-p|--publish SPEC]... SERVICE
//! [CMD...]`: a one-off container of the service,
//! `<project>-<service>-run-<12 hex>` unless `--name`, with the command
//! and settings overridden and no restart policy (as docker compose).
//! Ports: none, unless `--service-ports` keeps the service's or
//! `--publish` gives others (published through the supervisor's proxies,
//! as `up` does). Dependencies are brought up first (through `up -d`, the
//! service itself at its current replica count) unless `--no-deps`.
//!
//! Attached, its output is printed until it exits and its exit code
//! becomes ours; `--rm` removes it then. Its stdin is ours (docker
//! compose's `--interactive`, on by default): the runtime's stdin FIFO
//! (`container::stdin`) is opened before the container starts and fed
//! from our stdin, and closed at our end-of-file, so `echo hi | compose
//! run --rm svc cat` prints `hi` and ends. From a terminal (our stdin and
//! stdout both are, no `-T`) the container gets a terminal of its own,
//! sized like ours: our terminal goes raw, keys travel through the FIFO
//! and the init writes them to the container's terminal, whose output is
//! logged as it comes and printed as is (a prompt shows before its line
//! ends); Ctrl-C is a key for the container then.
//!
//! The container is recorded with replica number 0, which `up` leaves
//! alone and `down` removes with the rest.

use super::logs::{LogPrinter, POLL};
use super::session::Session;
use super::{steps, up, GlobalArgs};
use crate::model::ports::ServicePortConfig;
use crate::model::ServiceConfig;
use clap::{Args, FromArgMatches};
use compose_runtime::container::{stdin, Status};
use compose_runtime::project::interrupt::Interrupts;
use compose_runtime::project::record::new_container_id;
use compose_runtime::project::{OnFailure, Op, Step};
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Run container in background and print container name
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Run as specified username or uid
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Override the entrypoint of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Disable pseudo-TTY allocation (the container's output is never a terminal here)
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Keep STDIN open: our stdin feeds the container's (default true; --interactive=false)
    #[arg(
        short = 'i',
        long,
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub interactive: bool,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(short = 'P', long, conflicts_with = "publish")]
    pub service_ports: bool,
    /// Publish a container's port(s) to the host (HOST:CONTAINER, repeatable)
    #[arg(long)]
    pub publish: Vec<String>,
    pub service: String,
    #[arg(allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load(global, std::slice::from_ref(&args.service))?;
    let Some(base) = session.project.services.get(&args.service) else {
        anyhow::bail!("no such service: {}", args.service);
    };
    bring_up_dependencies(global, &session, base, args.no_deps)?;
    let config = one_off_config(base, args)?;
    let images = steps::resolve_images(&session, &[&config])?;
    let name = match &args.name {
        Some(n) => n.clone(),
        None => {
            let id = new_container_id();
            format!("{}-{}-run-{}", session.project.name, config.name, &id[..12])
        }
    };
    let snap = session.snapshot()?;
    if snap.containers.iter().any(|c| c.record.name == name) {
        anyhow::bail!(
            "a container named {name:?} already exists: choose another --name or remove it"
        );
    }
    let (mut request, notes) =
        steps::one_off(&session, &config, &name, &images[&config.name], &snap)?;
    for note in &notes {
        crate::ui::warn(&note.to_string());
    }
    let interactive = args.interactive && !args.detach;
    request.record.spec.process.stdin_open = interactive;
    // docker compose: a terminal unless -T, when our stdin and stdout are
    // terminals (so piped input and captured output stay plain streams).
    let tty = interactive
        && !args.no_tty
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal();
    if tty {
        let process = &mut request.record.spec.process;
        process.tty = true;
        process.console_size = compose_runtime::sys::tty::window_size(std::io::stdout().as_fd())
            .ok()
            .filter(|size| size.ws_row > 0 && size.ws_col > 0)
            .map(|size| (size.ws_row, size.ws_col));
    }
    let create = Step {
        op: Op::CreateContainer {
            request: Box::new(request),
        },
        after: vec![],
    };
    let start = Step {
        op: Op::StartContainer { name: name.clone() },
        after: vec![],
    };
    let started = session.apply(&[create], OnFailure::Stop).and_then(|()| {
        // The FIFO is open before the start, so the workload cannot read
        // an end of input before we wrote.
        let stdin = if interactive {
            Some(stdin::open_writer(&session.dir.container_dir(&name))?)
        } else {
            None
        };
        session.apply(&[start], OnFailure::Stop)?;
        Ok(stdin)
    });
    let stdin = match started {
        Ok(stdin) => stdin,
        Err(e) => {
            if args.rm {
                remove(&session, &name);
            }
            return Err(e);
        }
    };
    if args.detach {
        println!("{name}");
        return Ok(ExitCode::SUCCESS);
    }
    // Keys go to the container's terminal as typed (Ctrl-C included);
    // ours is restored when this guard drops.
    let raw_mode = if tty {
        Some(compose_runtime::sys::tty::RawMode::enable(
            std::io::stdin().as_fd(),
        )?)
    } else {
        None
    };
    if let Some(fifo) = stdin {
        feed_stdin(fifo);
    }
    let code = attach(&session, &name, tty);
    drop(raw_mode);
    let code = code?;
    if args.rm {
        remove(&session, &name);
    }
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// `up -d` of the service's dependencies with the service kept at its
/// current count, so networks and volumes exist too. With `--no-deps`
/// the dependencies are kept at theirs: nothing new is created for them.
fn bring_up_dependencies(
    global: &GlobalArgs,
    session: &Session,
    service: &ServiceConfig,
    no_deps: bool,
) -> anyhow::Result<()> {
    let snap = session.snapshot()?;
    let count = |name: &str| {
        snap.containers
            .iter()
            .filter(|c| c.record.service == name && c.record.number > 0)
            .count()
    };
    let mut argv = vec!["up".to_string(), "-d".to_string()];
    for name in session.project.services.keys() {
        if name == &service.name || no_deps {
            argv.push("--scale".into());
            argv.push(format!("{name}={}", count(name)));
        }
    }
    argv.push(service.name.clone());
    // Parsed like the command line, so `up`'s defaults apply.
    let command = up::UpArgs::augment_args(clap::Command::new("up"));
    let matches = command.try_get_matches_from(&argv)?;
    let up_args = up::UpArgs::from_arg_matches(&matches)?;
    up::run(global, &up_args)?;
    Ok(())
}

/// The service as the one-off container runs it.
fn one_off_config(base: &ServiceConfig, args: &RunArgs) -> anyhow::Result<ServiceConfig> {
    let mut config = base.clone();
    if !args.command.is_empty() {
        config.command = Some(args.command.clone());
    }
    if let Some(entrypoint) = &args.entrypoint {
        let words = shlex::split(entrypoint)
            .ok_or_else(|| anyhow::anyhow!("--entrypoint {entrypoint:?}: unbalanced quotes"))?;
        config.entrypoint = Some(words);
        // A new entrypoint drops the image's command, as Docker does.
        if args.command.is_empty() {
            config.command = Some(Vec::new());
        }
    }
    for kv in &args.env {
        match kv.split_once('=') {
            Some((k, v)) => config.environment.insert(k.into(), Some(v.into())),
            // `-e NAME`: the value from our environment, unset if absent.
            None => config
                .environment
                .insert(kv.clone(), std::env::var(kv).ok()),
        };
    }
    if let Some(user) = &args.user {
        config.user = user.clone();
    }
    if let Some(dir) = &args.workdir {
        config.working_dir = dir.clone();
    }
    // docker compose run: no ports unless --service-ports (or those of
    // --publish), no restart, and its own name.
    if !args.service_ports {
        config.ports = published(&args.publish)?;
    }
    config.restart.clear();
    if let Some(deploy) = config.deploy.as_mut() {
        deploy.restart_policy = None;
    }
    config.container_name.clear();
    config.tty = false;
    Ok(config)
}

/// Print the container's output until it exits; its exit code. Ctrl-C
/// stops it (exit 130).
fn attach(session: &Session, name: &str, tty: bool) -> anyhow::Result<i32> {
    let snap = session.snapshot()?;
    let Some(c) = snap.containers.iter().find(|c| c.record.name == name) else {
        anyhow::bail!("container {name} disappeared after it started");
    };
    let mut printer = LogPrinter::new(&[c], console::colors_enabled(), false, false);
    if tty {
        printer = printer.raw();
    }
    let mut interrupts = Interrupts::catch()?;
    loop {
        printer.print_new(None);
        if interrupts.pending() {
            let stop = Step {
                op: Op::StopContainer {
                    name: name.to_string(),
                    timeout: None,
                },
                after: vec![],
            };
            session.apply(&[stop], OnFailure::Continue)?;
            printer.print_new(None);
            return Ok(130);
        }
        let snap = session.snapshot()?;
        let c = snap.containers.iter().find(|c| c.record.name == name);
        match c {
            Some(c) if c.status() == Status::Stopped => {
                printer.print_new(None);
                return Ok(c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code));
            }
            Some(_) => std::thread::sleep(POLL),
            None => anyhow::bail!("container {name} was removed while it ran"),
        }
    }
}

/// `--rm`: remove the container and its anonymous volumes.
fn remove(session: &Session, name: &str) {
    let step = Step {
        op: Op::RemoveContainer {
            name: name.to_string(),
            volumes: true,
        },
        after: vec![],
    };
    if let Err(e) = session.apply(&[step], OnFailure::Continue) {
        crate::ui::warn(&format!("could not remove {name}: {e:#}"));
    }
}

/// `--publish` specs as the service's `ports:` short syntax reads them.
fn published(specs: &[String]) -> anyhow::Result<Vec<ServicePortConfig>> {
    let mut ports = Vec::new();
    for spec in specs {
        let parsed = crate::loader::canonical::ports::parse(spec)
            .map_err(|reason| anyhow::anyhow!("--publish {spec:?}: {reason}"))?;
        ports.extend(parsed.into_iter().map(|p| ServicePortConfig {
            mode: "ingress".into(),
            host_ip: p.host_ip,
            target: p.target,
            published: p.published,
            protocol: p.protocol,
            ..Default::default()
        }));
    }
    Ok(ports)
}

/// Copy our stdin into the container's until our end of input, then close
/// the FIFO so the workload reads its end too. A thread: the container may
/// exit without reading, and we return then without waiting for input.
fn feed_stdin(fifo: std::os::fd::OwnedFd) {
    std::thread::spawn(move || {
        let mut fifo = std::fs::File::from(fifo);
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut fifo);
    });
}

/// docker compose reads `-p` after `run` as `--publish` (its `-p` project
/// name goes before the subcommand); ours is global, so such a `-p`,
/// between `run` and the service, becomes `--publish` before parsing.
/// Options after the service belong to the command and are left alone.
pub fn rewrite_publish(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    // Global options that take a value, before the subcommand.
    const GLOBAL_VALUED: [&str; 10] = [
        "-f",
        "--file",
        "-p",
        "--project-name",
        "--project-directory",
        "--env-file",
        "--profile",
        "--environment",
        "--ansi",
        "--progress",
    ];
    // `run`'s options that take a value.
    const RUN_VALUED: [&str; 11] = [
        "-e",
        "--env",
        "-u",
        "--user",
        "-w",
        "--workdir",
        "--entrypoint",
        "--name",
        "-p",
        "--publish",
        "--interactive",
    ];
    let text = |i: usize| args.get(i).and_then(|a| a.to_str());
    let mut i = 1;
    loop {
        match text(i) {
            None => return args,
            Some(a) if GLOBAL_VALUED.contains(&a) => i += 2,
            Some(a) if a.starts_with('-') => i += 1,
            Some("run") => break,
            Some(_) => return args,
        }
    }
    let mut out: Vec<std::ffi::OsString> = args[..=i].to_vec();
    i += 1;
    while let Some(a) = text(i) {
        if !a.starts_with('-') {
            break;
        }
        if a == "-p" {
            out.push("--publish".into());
        } else if let Some(spec) = a.strip_prefix("-p") {
            out.push(format!("--publish={spec}").into());
            i += 1;
            continue;
        } else {
            out.push(args[i].clone());
        }
        // `--interactive` takes its value only as `--interactive=false`.
        if RUN_VALUED.contains(&a) && a != "--interactive" {
            if let Some(value) = args.get(i + 1) {
                out.push(value.clone());
            }
            i += 1;
        }
        i += 1;
    }
    out.extend(args.into_iter().skip(i));
    out
}

#[cfg(test)]
mod tests {
    use super::rewrite_publish;

    fn rewrite(line: &str) -> String {
        let args = line.split(' ').map(Into::into).collect();
        let out: Vec<String> = rewrite_publish(args)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        out.join(" ")
    }

    #[test]
    fn p_after_run_and_before_the_service_is_publish() {
        assert_eq!(
            rewrite("compose -p proj run -p 8080:80 -e A=1 -p9090:90 web nc -p 1"),
            "compose -p proj run --publish 8080:80 -e A=1 --publish=9090:90 web nc -p 1"
        );
        assert_eq!(
            rewrite("compose run --rm -e -p web"),
            "compose run --rm -e -p web"
        );
        assert_eq!(rewrite("compose -p x up -d"), "compose -p x up -d");
        assert_eq!(rewrite("compose logs -p"), "compose logs -p");
    }
}
