//! `compose attach [--index N] [--no-stdin] [--sig-proxy=BOOL] SERVICE`:
//! follow one running container's output from now on, as docker compose's
//! `attach` does (its earlier output is `logs`), until it exits; its exit
//! code becomes ours. Ctrl-C is passed to the container as SIGINT
//! (`--sig-proxy`, on by default), else it only detaches. Stdin reaches
//! the container when it was started with one (`compose run -i`'s FIFO);
//! the detach keys in it end the attach, the container keeps running.
//! (`attach.rs` is `up`'s attached mode.)

use super::logs::{LogPrinter, POLL};
use super::GlobalArgs;
use compose_runtime::container::{stdin, Status};
use compose_runtime::project::interrupt::Interrupts;
use compose_runtime::project::{ops, parse_signal};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
    /// Override the key sequence for detaching from a container (default ctrl-p,ctrl-q)
    #[arg(long, default_value = "ctrl-p,ctrl-q", value_parser = detach_keys)]
    pub detach_keys: DetachKeys,
    pub service: String,
}

pub fn run(global: &GlobalArgs, args: &AttachArgs) -> anyhow::Result<ExitCode> {
    let session = super::lifecycle::session(global, std::slice::from_ref(&args.service))?;
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
    let detached = Arc::new(AtomicBool::new(false));
    if !args.no_stdin {
        // Our stdin goes to the container's when it has one; the detach
        // keys are watched for either way.
        let writer = match c.dir.join(stdin::STDIN_FIFO).exists() {
            true => Some(std::fs::File::from(stdin::open_writer(&c.dir)?)),
            false => None,
        };
        let (keys, detached) = (args.detach_keys.0.clone(), detached.clone());
        std::thread::spawn(move || feed(writer, &keys, &detached));
    }
    let mut interrupts = Interrupts::catch()?;
    loop {
        printer.print_new(None);
        if detached.load(Ordering::Relaxed) {
            eprintln!("read escape sequence");
            return Ok(ExitCode::SUCCESS);
        }
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

/// Copy our stdin to the container's (when `writer`), until the detach
/// keys arrive (they are not passed on) or our input ends.
fn feed(mut writer: Option<std::fs::File>, keys: &[u8], detached: &AtomicBool) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; 4096];
    // How much of `keys` the input has matched so far.
    let mut matched = 0;
    while let Ok(n) = stdin.read(&mut buf) {
        if n == 0 {
            return;
        }
        let mut out = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if !keys.is_empty() && b == keys[matched] {
                matched += 1;
                if matched == keys.len() {
                    detached.store(true, Ordering::Relaxed);
                    return;
                }
                continue;
            }
            // A partial match was input after all.
            out.extend_from_slice(&keys[..matched]);
            matched = usize::from(!keys.is_empty() && b == keys[0]);
            if matched == 0 {
                out.push(b);
            }
        }
        if let Some(w) = writer.as_mut() {
            if w.write_all(&out).is_err() {
                writer = None;
            }
        }
    }
}

/// The bytes of `--detach-keys`.
#[derive(Debug, Clone)]
pub struct DetachKeys(pub Vec<u8>);

/// docker's `--detach-keys`: comma-separated keys, each `ctrl-X` (X a
/// letter or one of `@[\\]^_`) or a single character.
fn detach_keys(text: &str) -> Result<DetachKeys, String> {
    text.split(',')
        .map(|key| {
            if let Some(rest) = key.strip_prefix("ctrl-") {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if c.is_ascii_alphabetic() || "@[\\]^_".contains(c) => {
                        Ok((c.to_ascii_uppercase() as u8) & 0x1f)
                    }
                    _ => Err(format!("{key:?} is not a control key (ctrl-a … ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_)")),
                }
            } else {
                let mut chars = key.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if c.is_ascii() => Ok(c as u8),
                    _ => Err(format!("{key:?} is not a key: use one character or ctrl-X, separated by commas")),
                }
            }
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(DetachKeys)
}

#[cfg(test)]
mod tests {
    use super::detach_keys;

    #[test]
    fn detach_keys_read_like_docker() {
        assert_eq!(detach_keys("ctrl-p,ctrl-q").unwrap().0, [0x10, 0x11]);
        assert_eq!(detach_keys("ctrl-a,x").unwrap().0, [0x01, b'x']);
        assert_eq!(detach_keys("ctrl-[").unwrap().0, [0x1b]);
        assert!(detach_keys("ctrl-pp").is_err());
        assert!(detach_keys("ab").is_err());
    }
}
