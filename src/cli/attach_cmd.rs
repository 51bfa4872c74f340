//! `compose attach [--index N] [--no-stdin] [--sig-proxy=BOOL] SERVICE`:
//! follow one running container's output from now on, as docker compose's
//! `attach` does (its earlier output is `logs`), until it exits; its exit
//! code becomes ours. Ctrl-C is passed to the container as SIGINT
//! (`--sig-proxy`, on by default), else it only detaches. Stdin reaches
//! the container when it was started with one (`compose run -i`'s FIFO).
//! (`attach.rs` is `up`'s attached mode.)

use super::logs::{LogPrinter, POLL};
use super::session::Session;
use super::GlobalArgs;
use compose_runtime::container::{stdin, Status};
use compose_runtime::project::interrupt::Interrupts;
use compose_runtime::project::{ops, parse_signal};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Do not attach STDIN
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(
        long,
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching from a container (accepted; Ctrl-C detaches with --sig-proxy=false)
    #[arg(long)]
    pub detach_keys: Option<String>,
    pub service: String,
}

pub fn run(global: &GlobalArgs, args: &AttachArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load_existing(global, &[])?;
    if !session.project.services.contains_key(&args.service) {
        anyhow::bail!("no such service: {}", args.service);
    }
    let snap = session.snapshot()?;
    let service = [args.service.clone()];
    let containers = session.containers(&snap, &service);
    let Some(c) = containers.iter().find(|c| c.record.number == args.index) else {
        anyhow::bail!(
            "service {} has no container with index {}",
            args.service,
            args.index
        );
    };
    if c.status() != Status::Running {
        anyhow::bail!(
            "container {} is not running: you cannot attach to a stopped container, start it first",
            c.record.name
        );
    }
    let name = c.record.name.clone();
    let colour = console::colors_enabled();
    let mut printer = LogPrinter::new(&[*c], colour, false, false);
    // From now on: what it printed before is `logs`.
    printer.print_new(Some(0));
    let fifo = c.dir.join(stdin::STDIN_FIFO);
    if !args.no_stdin && fifo.exists() {
        let writer = stdin::open_writer(&c.dir)?;
        std::thread::spawn(move || {
            let mut writer = std::fs::File::from(writer);
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut writer);
        });
    }
    let mut interrupts = Interrupts::catch()?;
    loop {
        printer.print_new(None);
        if interrupts.pending() {
            if !args.sig_proxy {
                return Ok(ExitCode::from(130));
            }
            let sigint = parse_signal("SIGINT").expect("SIGINT is a signal");
            ops::kill(&session.dir, &name, sigint)?;
        }
        let snap = session.snapshot()?;
        match snap.containers.iter().find(|c| c.record.name == name) {
            Some(c) if c.status() == Status::Stopped => {
                printer.print_new(None);
                let code = c.state.as_ref().and_then(|s| s.exit).map_or(0, |e| e.code);
                return Ok(ExitCode::from(code.clamp(0, 255) as u8));
            }
            Some(_) => std::thread::sleep(POLL),
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}
