//! The command line: global flags, one module per subcommand, exit codes.

pub mod attach;
pub mod attach_cmd;
pub mod build;
pub mod config;
pub mod cp;
pub mod create;
pub mod down;
pub mod env;
pub mod events;
pub mod exec;
pub mod graph;
pub mod image;
pub mod images;
pub mod init;
pub mod kill;
mod lifecycle;
pub mod logs;
pub mod ls;
pub mod pause;
pub mod port;
pub mod ps;
pub mod pull;
pub mod push;
pub mod restart;
pub mod rm;
pub mod run;
pub mod scale;
pub mod session;
pub mod start;
pub mod stats;
pub mod steps;
pub mod stop;
pub mod supervise;
pub mod top;
pub mod up;
pub mod up_wait;
pub mod version;
pub mod volumes;
pub mod wait;
pub mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Define and run multi-container applications with a bundled container runtime.
#[derive(Debug, Parser)]
#[command(name = "compose", version, disable_version_flag = false)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes, as docker compose's.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Compose configuration files (repeatable; `-` reads standard input)
    #[arg(short = 'f', long = "file", global = true)]
    pub file: Vec<std::path::PathBuf>,
    /// Project name
    #[arg(short = 'p', long = "project-name", global = true)]
    pub project_name: Option<String>,
    /// Alternate working directory (default: the first file's directory)
    #[arg(long = "project-directory", global = true)]
    pub project_directory: Option<std::path::PathBuf>,
    /// Alternate environment files (repeatable)
    #[arg(long = "env-file", global = true)]
    pub env_file: Vec<std::path::PathBuf>,
    /// Profiles to enable (repeatable)
    #[arg(long = "profile", global = true)]
    pub profile: Vec<String>,
    /// Environment to layer over the base: loads compose.NAME.yaml and .env.NAME
    #[arg(long = "environment", global = true, env = "COMPOSE_ENVIRONMENT")]
    pub environment: Option<String>,
    /// Control when to print ANSI control characters ("never"|"always"|"auto")
    #[arg(long = "ansi", global = true, value_enum, default_value_t = Ansi::Auto, env = "COMPOSE_ANSI")]
    pub ansi: Ansi,
    /// Set type of progress output (auto, tty, plain, quiet, json); default from COMPOSE_PROGRESS
    #[arg(long = "progress", global = true, value_enum)]
    pub progress: Option<crate::ui::progress::Mode>,
}

/// `--ansi`: whether to print colours and other escape sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Ansi {
    /// Only when writing to a terminal (and NO_COLOR is unset)
    Auto,
    Always,
    Never,
}

impl Ansi {
    /// Apply the choice to every styled output of the process.
    fn apply(self) {
        match self {
            // console already looks at the terminal and NO_COLOR/CLICOLOR.
            Ansi::Auto => {}
            Ansi::Always => {
                console::set_colors_enabled(true);
                console::set_colors_enabled_stderr(true);
            }
            Ansi::Never => {
                console::set_colors_enabled(false);
                console::set_colors_enabled_stderr(false);
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, resolve and render the Compose file in canonical format
    Config(config::ConfigArgs),
    /// Show a service's final environment and where each value comes from
    Env(env::EnvArgs),
    /// Show the service dependency graph (start levels and conditions)
    Graph(graph::GraphArgs),
    /// Show the version information
    Version(version::VersionArgs),
    /// A container's PID 1 (internal)
    #[command(hide = true)]
    Init(init::InitArgs),
    /// Build or rebuild services
    Build(build::BuildArgs),
    /// Manage images of the bundled runtime
    Image(image::ImageArgs),
    /// Pull service images
    Pull(pull::PullArgs),
    /// Push service images
    Push(push::PushArgs),
    /// Manage the bundled runtime (disk usage)
    System(image::SystemArgs),
    /// Create and start containers
    Up(up::UpArgs),
    /// Attach local standard input, output, and error streams to a service's running container
    Attach(attach_cmd::AttachArgs),
    /// List images used by the created containers
    Images(images::ImagesArgs),
    /// List volumes
    Volumes(volumes::VolumesArgs),
    /// Creates containers for a service
    Create(create::CreateArgs),
    /// Stop and remove containers, networks
    Down(down::DownArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// View output from containers
    Logs(logs::LogsArgs),
    /// Execute a command in a running container
    Exec(exec::ExecArgs),
    /// Stop services
    Stop(stop::StopArgs),
    /// Start services
    Start(start::StartArgs),
    /// Restart service containers
    Restart(restart::RestartArgs),
    /// Force stop service containers
    Kill(kill::KillArgs),
    /// Removes stopped service containers
    Rm(rm::RmArgs),
    /// Scale services
    Scale(scale::ScaleArgs),
    /// Receive real time events from containers
    Events(events::EventsArgs),
    /// Pause services
    Pause(pause::PauseArgs),
    /// Print the public port for a port binding
    Port(port::PortArgs),
    /// Unpause services
    Unpause(pause::PauseArgs),
    /// Display the running processes
    Top(top::TopArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(stats::StatsArgs),
    /// Block until containers of all (or specified) services stop
    Wait(wait::WaitArgs),
    /// List running compose projects
    Ls(ls::LsArgs),
    /// Run a one-off command on a service
    Run(run::RunArgs),
    /// Copy files/folders between a service container and the local filesystem
    Cp(cp::CpArgs),
    /// The container side of `cp` (internal)
    #[command(hide = true, name = "cp-shim")]
    CpShim(cp::CpShimArgs),
    /// Watch build context for service and rebuild/refresh containers when files are updated
    Watch(watch::WatchArgs),
    /// A project's supervisor (internal)
    #[command(hide = true)]
    Supervise(supervise::SuperviseArgs),
}

/// Parse the command line, run it, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse_from(run::rewrite_publish(logs::rewrite_follow(
        std::env::args_os().collect(),
    )));
    cli.global.ansi.apply();
    let result = match &cli.command {
        Command::Config(args) => config::run(&cli.global, args),
        Command::Env(args) => env::run(&cli.global, args),
        Command::Graph(args) => graph::run(&cli.global, args),
        Command::Version(args) => version::run(args),
        Command::Init(args) => init::run(args),
        Command::Build(args) => build::run(&cli.global, args),
        Command::Image(args) => image::run(args),
        Command::Pull(args) => pull::run(&cli.global, args),
        Command::Push(args) => push::run(&cli.global, args),
        Command::System(args) => image::run_system(args),
        Command::Up(args) => up::run(&cli.global, args),
        Command::Attach(args) => attach_cmd::run(&cli.global, args),
        Command::Images(args) => images::run(&cli.global, args),
        Command::Volumes(args) => volumes::run(&cli.global, args),
        Command::Create(args) => create::run(&cli.global, args),
        Command::Down(args) => down::run(&cli.global, args),
        Command::Ps(args) => ps::run(&cli.global, args),
        Command::Logs(args) => logs::run(&cli.global, args),
        Command::Exec(args) => exec::run(&cli.global, args),
        Command::Stop(args) => stop::run(&cli.global, args),
        Command::Start(args) => start::run(&cli.global, args),
        Command::Restart(args) => restart::run(&cli.global, args),
        Command::Kill(args) => kill::run(&cli.global, args),
        Command::Rm(args) => rm::run(&cli.global, args),
        Command::Scale(args) => scale::run(&cli.global, args),
        Command::Events(args) => events::run(&cli.global, args),
        Command::Pause(args) => pause::run(&cli.global, args, true),
        Command::Port(args) => port::run(&cli.global, args),
        Command::Unpause(args) => pause::run(&cli.global, args, false),
        Command::Top(args) => top::run(&cli.global, args),
        Command::Stats(args) => stats::run(&cli.global, args),
        Command::Wait(args) => wait::run(&cli.global, args),
        Command::Ls(args) => ls::run(args),
        Command::Run(args) => run::run(&cli.global, args),
        Command::Cp(args) => cp::run(&cli.global, args),
        Command::CpShim(args) => cp::run_shim(args),
        Command::Watch(args) => watch::run(&cli.global, args),
        Command::Supervise(args) => supervise::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report_error(&e);
            ExitCode::from(1)
        }
    }
}

impl GlobalArgs {
    /// The progress display these flags and the environment ask for.
    pub fn progress_display(&self) -> anyhow::Result<crate::ui::progress::Display> {
        let ansi = match self.ansi {
            Ansi::Auto => None,
            Ansi::Always => Some(true),
            Ansi::Never => Some(false),
        };
        let terminal = console::Term::stderr().is_term();
        Ok(crate::ui::progress::resolve(
            self.progress,
            |k| std::env::var(k).ok(),
            ansi,
            terminal,
        )?)
    }

    /// The loader's options for these flags, with the process environment
    /// (discovery reads `COMPOSE_FILE`, `COMPOSE_PROFILES`, ... from it and
    /// from `.env`) and standard input's text when a file is `-`.
    pub fn loader_options(&self) -> anyhow::Result<crate::loader::Options> {
        let cwd = std::env::current_dir()?;
        let mut opts = crate::loader::Options::for_dir(cwd);
        opts.files = self.file.clone();
        opts.project_name = self.project_name.clone();
        opts.project_directory = self.project_directory.clone();
        opts.env_files = self.env_file.clone();
        opts.profiles = self.profile.clone();
        opts.environment = self.environment.clone().filter(|e| !e.is_empty());
        // Non-UTF-8 variables cannot be interpolated into a Compose file;
        // they are skipped rather than aborting.
        opts.os_env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        if self.file.iter().any(|f| f.as_os_str() == "-") {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
            opts.stdin = Some(text);
        }
        Ok(opts)
    }
}

/// The error and its causes on one line, like `{e:#}`, but without a
/// cause whose text the message already shows (many errors name their
/// source in their own message, `cannot read x: Is a directory`).
fn error_text(e: &anyhow::Error) -> String {
    let mut message = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

/// Print an error as one line, then the source line it points at (when the
/// message starts with a file position and the file can be read).
fn report_error(e: &anyhow::Error) {
    let message = error_text(e);
    eprintln!("{} {message}", console::style("error:").red().bold());
    if let Some(snippet) = crate::ui::snippet::leading_span(&message)
        .as_ref()
        .and_then(crate::ui::snippet::render)
    {
        eprintln!("{}", console::style(snippet).dim());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read x: {source}")]
    struct Named {
        source: std::io::Error,
    }

    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        let io = std::io::Error::other("Is a directory");
        let e = anyhow::Error::new(Named { source: io });
        assert_eq!(error_text(&e), "cannot read x: Is a directory");
        let e = anyhow::Error::new(std::io::Error::other("disk full")).context("saving state");
        assert_eq!(error_text(&e), "saving state: disk full");
    }
}
