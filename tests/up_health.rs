//! Healthchecks, `depends_on` conditions and `up --wait`, end to end:
//! the supervisor probes by exec into the container, `ps` and events show
//! the status, dependents wait for healthy or completed dependencies and
//! `up` fails naming the dependency, the condition and why. Needs root.

mod up_support;

use std::time::{Duration, Instant, SystemTime};
use up_support::{stderr, Project};

/// A service that becomes ready one second after it starts; failures
/// before that fall in its start period and do not count.
const READY_AFTER_1S: &str = "    image: IMAGE\n    command: [sh, -c, 'sleep 1; touch /tmp/ready; exec sleep 3600']\n    healthcheck:\n      test: test -f /tmp/ready\n      interval: 200ms\n      start_period: 30s\n      start_interval: 200ms\n      retries: 2\n";

/// A service whose check always fails.
const NEVER_HEALTHY: &str = "    image: IMAGE\n    command: sleep 3600\n    healthcheck:\n      test: [CMD, 'false']\n      interval: 200ms\n      retries: 2\n";

fn container_dir(p: &Project, service: &str) -> std::path::PathBuf {
    p.containers_dir().join(p.container(service, 1))
}

fn json_file(path: &std::path::Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn health(p: &Project, service: &str) -> serde_json::Value {
    json_file(&container_dir(p, service).join("health.json")).unwrap_or_default()
}

fn state(p: &Project, service: &str) -> serde_json::Value {
    json_file(&container_dir(p, service).join("state.json")).unwrap()
}

fn time(text: &serde_json::Value) -> SystemTime {
    humantime::parse_rfc3339_weak(text.as_str().unwrap()).unwrap()
}

fn events(p: &Project) -> String {
    let path = p
        .root
        .path()
        .join("projects")
        .join(&p.name)
        .join("events.jsonl");
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Poll `f` until it returns `Some`, for at most `secs` seconds.
fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn down_leaves_nothing(p: &Project) {
    let names: Vec<String> = p.container_dirs();
    let pids = p.init_pids();
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn a_check_goes_from_starting_to_healthy_and_ps_and_events_show_it() {
    let p = Project::new("hc-ok", &format!("services:\n  db:\n{READY_AFTER_1S}"));
    p.ok(&["up", "-d"]);
    let ps = p.ok(&["ps"]);
    assert!(ps.contains("(health: starting)"), "{ps}");
    let ps = eventually(10, "healthy in ps", || {
        Some(p.ok(&["ps"])).filter(|ps| ps.contains("(healthy)"))
    });
    assert!(ps.contains(&p.container("db", 1)), "{ps}");
    let json: serde_json::Value =
        serde_json::from_str(p.ok(&["ps", "--format", "json"]).trim()).unwrap();
    assert_eq!(json["Health"], "healthy");
    let h = health(&p, "db");
    assert_eq!(h["Status"], "healthy");
    assert_eq!(h["FailingStreak"], 0);
    let log = h["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "{h}");
    assert_eq!(log.last().unwrap()["ExitCode"], 0);
    assert!(
        log.iter().any(|e| e["ExitCode"] == 1),
        "failures in the start period are logged but do not count: {h}"
    );
    let events = eventually(5, "the health_status event", || {
        Some(events(&p)).filter(|e| e.contains("health_status: healthy"))
    });
    assert!(!events.contains("health_status: unhealthy"), "{events}");
    down_leaves_nothing(&p);
}

#[test]
fn a_restarted_container_starts_its_health_over() {
    let p = Project::new("hc-restart", &format!("services:\n  db:\n{READY_AFTER_1S}"));
    p.ok(&["up", "-d"]);
    eventually(10, "healthy", || {
        (health(&p, "db")["Status"] == "healthy").then_some(())
    });
    let first_run = state(&p, "db")["started_at"].clone();
    p.ok(&["restart", "-t", "0"]);
    let second_run = state(&p, "db")["started_at"].clone();
    assert_ne!(first_run, second_run);
    // The old run's health says nothing about the new one.
    let h = health(&p, "db");
    if h["StartedAt"] != second_run {
        assert!(p.ok(&["ps"]).contains("(health: starting)"));
    }
    eventually(10, "a second healthy event", || {
        (events(&p).matches("health_status: healthy").count() == 2).then_some(())
    });
    let h = health(&p, "db");
    assert_eq!(h["StartedAt"], second_run, "{h}");
    down_leaves_nothing(&p);
}

#[test]
fn failures_and_timeouts_make_a_container_unhealthy_and_up_wait_fails() {
    let p = Project::new(
        "hc-bad",
        &format!(
            "services:\n  bad:\n{NEVER_HEALTHY}  slow:\n    image: IMAGE\n    command: sleep 3600\n    healthcheck:\n      test: [CMD, sleep, '5']\n      interval: 200ms\n      timeout: 300ms\n      retries: 1\n"
        ),
    );
    let out = p.compose(&["up", "--wait"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!("container {} is unhealthy", p.container("bad", 1)))
            || err.contains(&format!(
                "container {} is unhealthy",
                p.container("slow", 1)
            )),
        "{err}"
    );
    eventually(10, "both unhealthy", || {
        let ps = p.ok(&["ps"]);
        (ps.matches("(unhealthy)").count() == 2).then_some(())
    });
    let bad = health(&p, "bad");
    assert!(bad["FailingStreak"].as_u64().unwrap() >= 2, "{bad}");
    let slow = health(&p, "slow");
    let last = slow["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], -1, "{slow}");
    assert!(
        last["Output"]
            .as_str()
            .unwrap()
            .contains("exceeded timeout"),
        "{slow}"
    );
    assert!(events(&p).contains("health_status: unhealthy"));
    down_leaves_nothing(&p);
}

#[test]
fn a_dependent_starts_only_once_its_dependency_is_healthy() {
    let p = Project::new(
        "hc-gate",
        &format!(
            "services:\n  db:\n{READY_AFTER_1S}  web:\n    image: IMAGE\n    command: sleep 3600\n    depends_on:\n      db: {{condition: service_healthy}}\n"
        ),
    );
    let out = p.compose(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let h = health(&p, "db");
    assert_eq!(h["Status"], "healthy", "up returned before db was healthy");
    let healthy_at = h["Log"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["ExitCode"] == 0)
        .map(|e| time(&e["End"]))
        .unwrap();
    let web_started = time(&state(&p, "web")["started_at"]);
    assert!(
        web_started >= healthy_at,
        "web started at {web_started:?}, before db was healthy at {healthy_at:?}"
    );
    assert!(stderr(&out).contains("Healthy"), "{}", stderr(&out));

    // `start` waits for the condition too, on the new run's health.
    p.ok(&["stop", "-t", "1"]);
    p.ok(&["start"]);
    let db_started = time(&state(&p, "db")["started_at"]);
    let h = health(&p, "db");
    assert_eq!(
        h["Status"], "healthy",
        "start returned before db was healthy"
    );
    let healthy_again = h["Log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ExitCode"] == 0)
        .map(|e| time(&e["End"]))
        .find(|t| *t >= db_started)
        .unwrap();
    let web_started = time(&state(&p, "web")["started_at"]);
    assert!(
        web_started >= healthy_again,
        "start: web started at {web_started:?}, before db was healthy at {healthy_again:?}"
    );
    down_leaves_nothing(&p);
}

#[test]
fn an_unhealthy_dependency_fails_up_naming_it_unless_optional() {
    let p = Project::new(
        "hc-dep-bad",
        &format!(
            "services:\n  db:\n{NEVER_HEALTHY}  web:\n    image: IMAGE\n    command: sleep 3600\n    depends_on:\n      db: {{condition: service_healthy}}\n"
        ),
    );
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "dependency db failed to start: container {} is unhealthy",
            p.container("db", 1)
        )),
        "{err}"
    );
    assert!(err.contains("condition service_healthy"), "{err}");
    assert!(
        !p.container_dirs().contains(&p.container("web", 1)),
        "web must not be created: {:?}",
        p.container_dirs()
    );

    p.write(&format!(
        "services:\n  db:\n{NEVER_HEALTHY}  web:\n    image: IMAGE\n    command: sleep 3600\n    depends_on:\n      db: {{condition: service_healthy, required: false}}\n"
    ));
    let out = p.compose(&["up", "-d"]);
    assert!(
        out.status.success(),
        "an optional dependency only warns: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&format!(
            "optional dependency db of web (service_healthy) failed: container {} is unhealthy",
            p.container("db", 1)
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(state(&p, "web")["status"], "running");
    down_leaves_nothing(&p);
}

#[test]
fn completed_successfully_waits_for_exit_zero_and_names_another_code() {
    let p = Project::new(
        "hc-once",
        "services:\n  migrate:\n    image: IMAGE\n    command: [sh, -c, 'sleep 0.5; exit 0']\n  web:\n    image: IMAGE\n    command: sleep 3600\n    depends_on:\n      migrate: {condition: service_completed_successfully}\n",
    );
    p.ok(&["up", "-d"]);
    let migrated = time(&state(&p, "migrate")["finished_at"]);
    let web_started = time(&state(&p, "web")["started_at"]);
    assert!(web_started >= migrated, "web started before migrate ended");
    down_leaves_nothing(&p);

    p.write(
        "services:\n  migrate:\n    image: IMAGE\n    command: [sh, -c, 'exit 3']\n  web:\n    image: IMAGE\n    command: sleep 3600\n    depends_on:\n      migrate: {condition: service_completed_successfully}\n",
    );
    let out = p.compose(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "dependency migrate did not complete successfully: container {} exited with code 3",
            p.container("migrate", 1)
        )),
        "{err}"
    );
    down_leaves_nothing(&p);
}

#[test]
fn up_wait_counts_one_shots_as_done_and_times_out_naming_what_it_waits_for() {
    let p = Project::new(
        "hc-wait",
        &format!(
            "services:\n  db:\n{READY_AFTER_1S}  once:\n    image: IMAGE\n    command: 'true'\n"
        ),
    );
    let out = p.compose(&["up", "--wait"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(health(&p, "db")["Status"], "healthy");
    assert_eq!(state(&p, "once")["status"], "stopped");
    down_leaves_nothing(&p);

    p.write("services:\n  db:\n    image: IMAGE\n    command: sleep 3600\n    healthcheck:\n      test: [CMD, 'false']\n      start_period: 1h\n      start_interval: 200ms\n");
    // The 1 s timeout ends the wait, not the hour of start_period.
    let out = p.compose(&["up", "--wait", "--wait-timeout", "1"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "timed out after 1s waiting for {} (health: starting)",
            p.container("db", 1)
        )),
        "{err}"
    );
    down_leaves_nothing(&p);
}

#[test]
fn restart_true_restarts_the_dependent_when_up_recreates_its_dependency() {
    let compose = |value: &str| {
        format!(
            "services:\n  db:\n    image: IMAGE\n    command: sleep 3600\n    environment: {{V: '{value}'}}\n  web:\n    image: IMAGE\n    command: sleep 3600\n    depends_on:\n      db: {{condition: service_started, restart: true}}\n  other:\n    image: IMAGE\n    command: sleep 3600\n    depends_on: [db]\n"
        )
    };
    let p = Project::new("hc-restart-dep", &compose("1"));
    p.ok(&["up", "-d"]);
    let web_id = json_file(&container_dir(&p, "web").join("compose.json")).unwrap()["id"].clone();
    let web_run = state(&p, "web")["started_at"].clone();
    let other_run = state(&p, "other")["started_at"].clone();
    p.write(&compose("2"));
    let plan = p.ok(&["up", "-d", "--dry-run"]);
    assert!(
        plan.contains(&format!(
            "stop container {} (dependency db recreated, restart: true)",
            p.container("web", 1)
        )),
        "{plan}"
    );
    p.ok(&["up", "-d"]);
    let web_now = json_file(&container_dir(&p, "web").join("compose.json")).unwrap();
    assert_eq!(web_now["id"], web_id, "restarted, not recreated");
    assert_ne!(state(&p, "web")["started_at"], web_run, "web restarted");
    assert_eq!(state(&p, "web")["status"], "running");
    assert_eq!(
        state(&p, "other")["started_at"],
        other_run,
        "without restart: true a dependent keeps running"
    );
    down_leaves_nothing(&p);
}

#[test]
fn a_new_supervisor_carries_on_with_the_health_of_running_containers() {
    let p = Project::new("hc-adopt", &format!("services:\n  db:\n{READY_AFTER_1S}"));
    p.ok(&["up", "-d"]);
    eventually(10, "healthy", || {
        (health(&p, "db")["Status"] == "healthy").then_some(())
    });
    let pid_file = p
        .root
        .path()
        .join("projects")
        .join(&p.name)
        .join("supervisor.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    eventually(5, "the supervisor to die", || {
        (!up_support::alive(pid)).then_some(())
    });
    let before = health(&p, "db")["Log"].as_array().unwrap().last().unwrap()["End"].clone();
    let ps = p.ok(&["ps"]);
    assert!(ps.contains("(healthy)"), "still healthy: {ps}");
    eventually(10, "probes from the new supervisor", || {
        let h = health(&p, "db");
        let last = h["Log"].as_array()?.last()?["End"].clone();
        (last != before && time(&last) > time(&before)).then_some(())
    });
    let h = health(&p, "db");
    assert_eq!(h["Status"], "healthy", "not reset to starting: {h}");
    assert_eq!(
        events(&p).matches("health_status: healthy").count(),
        1,
        "no second transition"
    );
    down_leaves_nothing(&p);
}
