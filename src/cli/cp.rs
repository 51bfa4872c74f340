//! `compose cp [-a] [-L] [--index N] SRC DEST`: copy files between a
//! service container and the local filesystem, either side `-` for a tar
//! stream on stdin/stdout, as `docker compose cp`: `SERVICE:PATH` (or a
//! container's name) names the container side; copying out reads the
//! first container (or `--index`), copying in writes every container of
//! the service unless `--index` picks one. Container paths are relative
//! to the container's root. The work inside the container is the copy
//! shim's (`compose_runtime::container::cp`); `cp-shim` is its hidden
//! entry point.

use super::session::Session;
use super::GlobalArgs;
use compose_runtime::container::cp::{
    container_path, extract_archive, split_container_path, wants_contents, write_archive, CopyOp,
    Layout,
};
use compose_runtime::container::{Container, InitProgram};
use compose_runtime::project::ObservedContainer;
use std::io::Read;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};

#[derive(Debug, clap::Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    /// Include containers created by the run command (accepted; no effect)
    #[arg(long)]
    pub all: bool,
    /// SERVICE:SRC_PATH, a local path or `-`
    pub source: String,
    /// SERVICE:DEST_PATH, a local path or `-`
    pub destination: String,
}

#[derive(Debug, clap::Args)]
pub struct CpShimArgs {
    pub state_dir: PathBuf,
    pub op: String,
}

/// The hidden `cp-shim` subcommand: the container side of a copy.
pub fn run_shim(args: &CpShimArgs) -> anyhow::Result<ExitCode> {
    let code = compose_runtime::container::cp::shim_main(&args.state_dir, &args.op);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

pub fn run(global: &GlobalArgs, args: &CpArgs) -> anyhow::Result<ExitCode> {
    let from = split_container_path(&args.source);
    let to = split_container_path(&args.destination);
    match (from, to) {
        (Some(_), Some(_)) => anyhow::bail!("copying between services is not supported"),
        (None, None) => anyhow::bail!(
            "one of SRC and DEST must name a container side, as SERVICE:PATH (for example web:/etc/hosts)"
        ),
        (Some((target, path)), None) => {
            let session = Session::load_existing(global, &[])?;
            let containers = targets(&session, target, args.index)?;
            copy_out(&containers[0], path, &args.destination, args)?;
        }
        (None, Some((target, path))) => {
            let session = Session::load_existing(global, &[])?;
            let containers = targets(&session, target, args.index)?;
            let input = Input::read(&args.source)?;
            for c in &containers {
                copy_in(c, &input, path, args)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The containers `target` (a service or a container name) stands for.
fn targets(session: &Session, target: &str, index: u32) -> anyhow::Result<Vec<ObservedContainer>> {
    let snap = session.snapshot()?;
    let found: Vec<ObservedContainer> = snap
        .containers
        .into_iter()
        .filter(|c| c.record.service == target || c.record.name == target)
        .filter(|c| index == 0 || c.record.number == index)
        .collect();
    if found.is_empty() {
        if index > 0 {
            anyhow::bail!("service {target:?} has no container number {index}");
        }
        anyhow::bail!("no container found for service {target:?}: run `compose up` first");
    }
    Ok(found)
}

/// A source on this side: a local path, or a tar stream on stdin (read
/// once, since it may go to several containers).
enum Input {
    Path { path: PathBuf, contents: bool },
    Stream(Vec<u8>),
}

impl Input {
    fn read(source: &str) -> anyhow::Result<Input> {
        if source == "-" {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes)?;
            return Ok(Input::Stream(bytes));
        }
        let path = PathBuf::from(source);
        if std::fs::symlink_metadata(&path).is_err() {
            anyhow::bail!("could not find the file {source} in the local filesystem");
        }
        Ok(Input::Path {
            contents: wants_contents(source),
            path: path.components().collect(),
        })
    }
}

/// Copy `path` of the container to `dest` here (`-`: a tar on stdout).
fn copy_out(c: &ObservedContainer, path: &str, dest: &str, args: &CpArgs) -> anyhow::Result<()> {
    let contents = wants_contents(path);
    let op = CopyOp::Out {
        src: container_path(path),
        follow: args.follow_link,
        contents,
    };
    let init = InitProgram::current_exe();
    let mut cmd = Container::load(&c.dir)?.copy(&op, &init)?;
    cmd.command_mut()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let stderr = drain(child.stderr.take());
    let stdout = child.stdout.take().expect("piped");
    let extracted = if dest == "-" {
        let mut stdout = stdout;
        std::io::copy(&mut stdout, &mut std::io::stdout().lock())
            .map(|_| ())
            .map_err(anyhow::Error::from)
    } else {
        let layout = if contents {
            Layout::Contents
        } else {
            Layout::Top
        };
        extract_archive(stdout, dest, layout, args.archive).map_err(anyhow::Error::from)
    };
    if extracted.is_err() {
        let _ = child.kill();
    }
    let status = child.wait()?;
    let message = stderr.join().unwrap_or_default();
    if !status.success() && !message.trim().is_empty() {
        anyhow::bail!("{}: {}", c.record.name, message.trim());
    }
    extracted?;
    if dest != "-" {
        progress(c, &format!("{}:{path} to {dest}", c.record.name));
    }
    Ok(())
}

/// Copy `input` into the container at `path`.
fn copy_in(c: &ObservedContainer, input: &Input, path: &str, args: &CpArgs) -> anyhow::Result<()> {
    let layout = match input {
        Input::Stream(_) => Layout::Stream,
        Input::Path { contents: true, .. } => Layout::Contents,
        Input::Path { .. } => Layout::Top,
    };
    let mut dest = container_path(path).display().to_string();
    if path.ends_with('/') && !dest.ends_with('/') {
        dest.push('/');
    }
    let op = CopyOp::In {
        dest,
        layout,
        archive: args.archive,
    };
    let init = InitProgram::current_exe();
    let mut cmd = Container::load(&c.dir)?.copy(&op, &init)?;
    cmd.command_mut()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let stderr = drain(child.stderr.take());
    let mut stdin = child.stdin.take().expect("piped");
    let written = match input {
        Input::Stream(bytes) => {
            std::io::Write::write_all(&mut stdin, bytes).map_err(anyhow::Error::from)
        }
        Input::Path { path, contents } => {
            write_archive(path, args.follow_link, *contents, &mut stdin)
                .map_err(anyhow::Error::from)
        }
    };
    drop(stdin);
    let status = child.wait()?;
    let message = stderr.join().unwrap_or_default();
    if !status.success() {
        anyhow::bail!("{}: {}", c.record.name, message.trim());
    }
    // A shim that failed early closes the pipe: its message says why.
    written?;
    let source = match input {
        Input::Stream(_) => "-".to_string(),
        Input::Path { path, .. } => path.display().to_string(),
    };
    progress(c, &format!("{source} to {}:{path}", c.record.name));
    Ok(())
}

/// Read a child's stderr to the end in a thread.
fn drain(pipe: Option<std::process::ChildStderr>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut text);
        }
        text
    })
}

fn progress(c: &ObservedContainer, detail: &str) {
    eprintln!(
        " {} Container {}  Copied {detail}",
        console::style("✔").green(),
        c.record.name
    );
}
