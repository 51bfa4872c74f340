//! `compose create`: `up --no-start` under its own name, as docker
//! compose has it: images found (pulled or built), networks, volumes and
//! containers created, nothing started.

use super::up::{self, ImageFlags, UpArgs};
use super::GlobalArgs;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Build images before starting containers
    #[arg(long, conflicts_with = "no_build")]
    pub build: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    #[command(flatten)]
    pub images: ImageFlags,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances (overrides `scale` in the Compose file)
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Assume "yes" as answer to all prompts and run non-interactively
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Print the plan instead of performing it
    #[arg(long)]
    pub dry_run: bool,
    pub services: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let up = UpArgs {
        detach: true,
        no_start: true,
        timeout: None,
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        remove_orphans: args.remove_orphans,
        scale: args.scale.clone(),
        wait: false,
        wait_timeout: None,
        dry_run: args.dry_run,
        no_deps: false,
        attached: Default::default(),
        build: args.build,
        images: args.images.clone(),
        always_recreate_deps: false,
        renew_anon_volumes: false,
        yes: args.yes,
        watch: false,
        services: args.services.clone(),
    };
    up::run(global, &up)
}
