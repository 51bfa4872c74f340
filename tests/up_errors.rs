//! A service that cannot start fails `up` with a clear message and leaves
//! no container behind. Needs root.

mod up_support;

use up_support::{stderr, Project};

fn fails(p: &Project, expected: &str) {
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success(), "up succeeded");
    let err = stderr(&out);
    assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    assert!(
        p.container_dirs().is_empty(),
        "left: {:?}",
        p.container_dirs()
    );
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mountinfo.contains(&*p.root.path().to_string_lossy()));
}

#[test]
fn a_missing_image_names_the_service_and_the_image() {
    let p = Project::new(
        "noimage",
        "services:\n  a:\n    image: 127.0.0.1:1/nope:1\n",
    );
    fails(&p, "service a: image 127.0.0.1:1/nope:1 is not available");
}

#[test]
fn a_missing_bind_source_is_reported() {
    let p = Project::new(
        "nobind",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 1\n    volumes:\n      - type: bind\n        source: /nonexistent/compose-test\n        target: /x\n        bind:\n          create_host_path: false\n",
    );
    fails(
        &p,
        "the bind mount source /nonexistent/compose-test does not exist",
    );
}

#[test]
fn an_unknown_user_is_reported() {
    let p = Project::new(
        "nouser",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 1\n    user: nobody-here\n",
    );
    fails(&p, "nobody-here");
}

#[test]
fn a_command_not_in_the_image_is_reported() {
    let p = Project::new(
        "nocmd",
        "services:\n  a:\n    image: IMAGE\n    command: no-such-program --flag\n",
    );
    fails(
        &p,
        "exec \"no-such-program\": executable file not found in $PATH",
    );
}

#[test]
fn pull_policy_never_and_a_build_without_dockerfile_say_what_to_do() {
    let p = Project::new(
        "never",
        "services:\n  a:\n    image: 127.0.0.1:1/absent:1\n    pull_policy: never\n",
    );
    fails(
        &p,
        "(`pull_policy: never` or `--pull never`) forbids pulling it",
    );
    let p = Project::new("build", "services:\n  web:\n    build: .\n");
    // `up` builds the missing image, as docker compose does; here the
    // Dockerfile is missing and the error names it.
    fails(&p, "service web: cannot read the Dockerfile");
}
