//! `compose scale SERVICE=N [SERVICE=N...] [--no-deps] [--dry-run]`: an
//! `up` of the named services (and, without `--no-deps`, their
//! dependencies) with their replica counts set, as docker compose's
//! `Scale` (create then start with `ScaleOptions.Replicas` applied to the
//! model). Replicas over the count go highest number first; services not
//! named are not touched.

use super::session::{to_observed_with_images, Session};
use super::steps::{self, StepOptions};
use super::GlobalArgs;
use crate::plan::{plan_up, UpOptions};
use compose_runtime::project::OnFailure;
use indexmap::IndexMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ScaleArgs {
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Print the plan instead of performing it
    #[arg(long)]
    pub dry_run: bool,
    /// SERVICE=REPLICAS
    #[arg(required = true, value_name = "SERVICE=REPLICAS")]
    pub scales: Vec<String>,
}

/// A `SERVICE=N` argument that cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScaleError {
    #[error("invalid scale specifier {arg:?}: expected SERVICE=REPLICAS, as in web=3")]
    Shape { arg: String },
    #[error(
        "invalid scale specifier {arg:?}: {value:?} is not a replica count (a whole number from 0)"
    )]
    Count { arg: String, value: String },
}

/// `web=3 db=1`, in the order given (a service named twice: the last wins).
pub fn parse(args: &[String]) -> Result<IndexMap<String, usize>, ScaleError> {
    let mut scale = IndexMap::new();
    for arg in args {
        let (name, value) = arg
            .split_once('=')
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .ok_or_else(|| ScaleError::Shape { arg: arg.clone() })?;
        let n = value.parse().map_err(|_| ScaleError::Count {
            arg: arg.clone(),
            value: value.to_string(),
        })?;
        scale.insert(name.to_string(), n);
    }
    Ok(scale)
}

pub fn run(global: &GlobalArgs, args: &ScaleArgs) -> anyhow::Result<ExitCode> {
    let scale = parse(&args.scales)?;
    let names: Vec<String> = scale.keys().cloned().collect();
    let mut session = Session::load(global, &names)?;
    if args.no_deps {
        set_aside_dependencies(&mut session, &names);
    }
    let opts = UpOptions {
        scale,
        ..UpOptions::default()
    };
    let services: Vec<_> = session.project.services.values().collect();
    let images = steps::resolve_images(&session, &services)?;
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
    let (steps, notes) = steps::steps(&session, &plan, &images, &snap, StepOptions::default())?;
    for note in &notes {
        crate::ui::warn(&note.to_string());
    }
    session.apply(&steps, OnFailure::Stop)?;
    drop(lock);
    Ok(ExitCode::SUCCESS)
}

/// `--no-deps`: only the named services are planned; their dependencies
/// are set aside like unselected services (neither started nor orphans).
pub(super) fn set_aside_dependencies(session: &mut Session, names: &[String]) {
    let project = &mut session.project;
    let deps: Vec<String> = project
        .services
        .keys()
        .filter(|k| !names.contains(k))
        .cloned()
        .collect();
    for dep in deps {
        if let Some(service) = project.services.shift_remove(&dep) {
            project.disabled_services.insert(dep, service);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn specifiers_are_service_equals_count() {
        let scale = parse(&strings(&["web=3", "db=0", "web=2"])).unwrap();
        assert_eq!(
            scale.into_iter().collect::<Vec<_>>(),
            [("web".to_string(), 2), ("db".to_string(), 0)]
        );
        assert_eq!(
            parse(&strings(&["web"])),
            Err(ScaleError::Shape { arg: "web".into() })
        );
        assert_eq!(
            parse(&strings(&["=3"])),
            Err(ScaleError::Shape { arg: "=3".into() })
        );
        assert_eq!(
            parse(&strings(&["web=-1"])),
            Err(ScaleError::Count {
                arg: "web=-1".into(),
                value: "-1".into()
            })
        );
    }
}
