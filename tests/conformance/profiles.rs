//! Profiles (spec 15-profiles.md, its illustrative example case by case).

use super::support::Project;

const EXAMPLE: &str = concat!(
    "name: p\nservices:\n  foo:\n    image: foo\n",
    "  bar:\n    image: bar\n    profiles: [test]\n",
    "  baz:\n    image: baz\n    depends_on: [bar]\n    profiles: [test]\n",
    "  zot:\n    image: zot\n    depends_on: [bar]\n    profiles: [debug]\n",
);

fn project(profiles: &[&str], selected: &[&str]) -> Project {
    let mut p = Project::new(EXAMPLE).profiles(profiles);
    p.opts.selected_services = selected.iter().map(|s| s.to_string()).collect();
    p
}

#[track_caller]
fn active(profiles: &[&str], selected: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = project(profiles, selected)
        .load()
        .project
        .services
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

#[test]
fn without_profiles_only_unprofiled_services_are_active() {
    assert_eq!(active(&[], &[]), ["foo"]);
}

#[test]
fn an_enabled_profile_adds_its_services() {
    assert_eq!(active(&["test"], &[]), ["bar", "baz", "foo"]);
    assert_eq!(
        active(&["debug", "test"], &[]),
        ["bar", "baz", "foo", "zot"]
    );
    assert_eq!(active(&["*"], &[]), ["bar", "baz", "foo", "zot"]);
}

#[test]
fn a_dependency_on_a_disabled_service_is_an_error() {
    let err = project(&["debug"], &[]).error();
    assert!(
        err.contains("zot") && err.contains("bar") && err.contains("--profile test"),
        "{err}"
    );
}

#[test]
fn a_service_named_on_the_command_line_enables_its_profiles() {
    assert_eq!(active(&[], &["bar"]), ["bar"]);
    assert_eq!(active(&[], &["baz"]), ["bar", "baz"]);
}

#[test]
fn a_named_service_whose_dependency_shares_no_profile_is_an_error() {
    let err = project(&[], &["zot"]).error();
    assert!(err.contains("bar"), "{err}");
}

#[test]
fn a_named_service_with_its_dependency_profile_enabled() {
    assert_eq!(active(&["test"], &["zot"]), ["bar", "zot"]);
}

#[test]
fn compose_profiles_from_the_environment() {
    let p = Project::new(EXAMPLE).env("COMPOSE_PROFILES", "test,debug");
    let mut names: Vec<String> = p.load().project.services.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["bar", "baz", "foo", "zot"]);
}

/// compose-go `loader_test.go` TestWithSelectedServicesOption and
/// TestWithSelectedServicesOption_SkipsMissingEnvFile.
#[test]
fn selected_services_keep_their_dependencies_only() {
    let yaml = "name: s\nservices:\n  web:\n    image: nginx\n    depends_on: [api]\n  api:\n    image: alpine\n  worker:\n    image: busybox\n    env_file:\n      - path: this-file-does-not-exist.env\n        required: true\n  debug:\n    image: alpine\n    profiles: [debug]\n";
    let names = |selected: &[&str]| {
        let mut p = Project::new(yaml);
        p.opts.selected_services = selected.iter().map(|s| s.to_string()).collect();
        let mut n: Vec<String> = p.load().project.services.keys().cloned().collect();
        n.sort();
        n
    };
    assert_eq!(names(&["web"]), ["api", "web"]);
    assert_eq!(names(&["debug"]), ["debug"]);
    let err = Project::new(yaml).error();
    assert!(err.contains("this-file-does-not-exist.env"), "{err}");
}
