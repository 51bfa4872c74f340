//! Rules, selection and batch plans on hand-made services.

use super::plan::{quoted_list, rebuild_message, sync_message};
use super::*;
use crate::model::develop::{DevelopConfig, Trigger, WatchAction};
use crate::model::{Project, ServiceConfig};
use compose_runtime::build::context::PatternSet;
use std::path::{Path, PathBuf};

fn trigger(path: &str, action: WatchAction, target: &str) -> Trigger {
    Trigger {
        path: path.into(),
        action,
        target: target.into(),
        ..Default::default()
    }
}

fn service(name: &str, watch: Vec<Trigger>) -> ServiceConfig {
    ServiceConfig {
        name: name.into(),
        develop: (!watch.is_empty()).then(|| DevelopConfig {
            watch,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn project(services: Vec<ServiceConfig>) -> Project {
    let mut p = Project::default();
    for s in services {
        p.services.insert(s.name.clone(), s);
    }
    p
}

fn paths(list: &[&str]) -> Vec<PathBuf> {
    list.iter().map(PathBuf::from).collect()
}

#[test]
fn services_without_watch_are_left_out_unless_named() {
    let p = project(vec![
        service("web", vec![trigger("/p/src", WatchAction::Sync, "/app")]),
        service("db", vec![]),
    ]);
    let names: Vec<&str> = watched_services(&p, &[])
        .unwrap()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["web"]);
    let err = watched_services(&p, &["db".into()]).unwrap_err();
    assert!(
        err.to_string()
            .contains("\"db\" is not configured for watch"),
        "{err}"
    );
    let none = project(vec![service("db", vec![])]);
    assert_eq!(
        watched_services(&none, &[]).unwrap_err().to_string(),
        "none of the selected services is configured for watch, consider setting a 'develop' section"
    );
}

#[test]
fn rebuild_needs_a_build_section_and_sync_exec_a_command() {
    let p = project(vec![service(
        "web",
        vec![trigger("/p", WatchAction::Rebuild, "")],
    )]);
    assert!(matches!(
        watched_services(&p, &[]),
        Err(WatchError::RebuildWithoutBuild { .. })
    ));
    let p = project(vec![service(
        "web",
        vec![trigger("/p", WatchAction::SyncExec, "/app")],
    )]);
    assert!(matches!(
        watched_services(&p, &[]),
        Err(WatchError::ExecWithoutCommand { .. })
    ));
}

#[test]
fn paths_map_under_the_target_unless_ignored_or_not_included() {
    let mut t = trigger("/p/src", WatchAction::Sync, "/app/");
    t.ignore = vec!["*.log".into(), "cache/".into()];
    let mut inc = trigger("/p/conf", WatchAction::SyncRestart, "/etc/app");
    inc.include = vec!["*.conf".into()];
    let rules = rules_for(&service("web", vec![t, inc]), None).unwrap();
    let map = |i: usize, p: &str| rules[i].map(Path::new(p)).and_then(|m| m.container);
    assert_eq!(map(0, "/p/src/a/b.js").as_deref(), Some("/app/a/b.js"));
    assert_eq!(map(0, "/p/src").as_deref(), Some("/app/"));
    assert_eq!(map(0, "/p/src/x.log"), None, "ignored");
    assert_eq!(
        map(0, "/p/src/cache/big.bin"),
        None,
        "below an ignored directory"
    );
    assert_eq!(map(0, "/p/src/.x.js.swp"), None, "an editor's swap file");
    assert_eq!(map(0, "/p/srcx/a.js"), None, "a sibling sharing the prefix");
    assert_eq!(map(1, "/p/conf/a.conf").as_deref(), Some("/etc/app/a.conf"));
    assert_eq!(map(1, "/p/conf/a.txt"), None, "not included");
}

#[test]
fn the_build_contexts_dockerignore_applies_to_the_services_rules() {
    let mut s = service("web", vec![trigger("/p", WatchAction::Rebuild, "")]);
    s.build = Some(crate::model::build::BuildConfig {
        context: "/p".into(),
        ..Default::default()
    });
    let set = PatternSet::new(&["node_modules", "*.md"]).unwrap();
    let rules = rules_for(&s, Some(set)).unwrap();
    assert!(rules[0].map(Path::new("/p/main.go")).is_some());
    assert!(rules[0].map(Path::new("/p/node_modules/x/y.js")).is_none());
    assert!(rules[0].map(Path::new("/p/README.md")).is_none());
}

#[test]
fn a_batch_asks_for_each_action_once_per_service() {
    let mut exec = trigger("/p/api", WatchAction::SyncExec, "/srv");
    exec.exec.command = Some(vec!["kill".into(), "-HUP".into(), "1".into()]);
    let web = service(
        "web",
        vec![
            trigger("/p/web/src", WatchAction::Sync, "/app/src"),
            trigger("/p/web/package.json", WatchAction::Rebuild, ""),
        ],
    );
    let api = service(
        "api",
        vec![
            exec,
            trigger("/p/api/conf", WatchAction::SyncRestart, "/conf"),
        ],
    );
    let worker = service(
        "worker",
        vec![trigger("/p/shared", WatchAction::Restart, "")],
    );
    let mut rules = rules_for(&web, None).unwrap();
    rules.extend(rules_for(&api, None).unwrap());
    rules.extend(rules_for(&worker, None).unwrap());
    let batch = paths(&[
        "/p/web/src/a.js",
        "/p/web/src/b.js",
        "/p/api/x.py",
        "/p/api/y.py",
        "/p/api/conf/c.ini",
        "/p/shared/lib.py",
        "/p/elsewhere",
    ]);
    let plan = plan_batch(&rules, &batch);
    assert!(plan.rebuild.is_empty());
    assert_eq!(plan.sync["web"].len(), 2);
    // conf/c.ini is under both of api's rules: synced by each.
    assert_eq!(plan.sync["api"].len(), 4);
    assert_eq!(quoted_list(&plan.restart), r#"["api" "worker"]"#);
    assert_eq!(plan.exec["api"].iter().copied().collect::<Vec<_>>(), [2]);
    let rebuild = plan_batch(&rules, &paths(&["/p/web/package.json"]));
    assert_eq!(
        rebuild_message(&rebuild.rebuild),
        r#"Rebuilding service(s) ["web"] after changes were detected..."#
    );
    assert!(plan_batch(&rules, &paths(&["/p/other"])).is_empty());
    assert_eq!(
        sync_message("web", 2),
        r#"Syncing service "web" after 2 changes were detected"#
    );
}

#[test]
fn sync_paths_inside_a_bind_mount_are_recognised() {
    let mut s = service("web", vec![]);
    s.volumes.push(crate::model::mounts::ServiceVolumeConfig {
        kind: "bind".into(),
        source: "/p/src".into(),
        target: "/app".into(),
        ..Default::default()
    });
    assert!(rules::bind_mounted("/p/src/lib", &s));
    assert!(!rules::bind_mounted("/p/other", &s));
}
