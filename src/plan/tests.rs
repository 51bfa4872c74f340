//! Golden plans: whole plans compared as text, so a change in ordering or
//! causes shows up as a readable diff.

use super::*;
use crate::loader::{load, Options};
use crate::model::{hash, Project};

fn project(yaml: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    let mut opts = Options::for_dir(dir.path());
    opts.project_name = Some("app".into());
    load(&opts).unwrap().project
}

const THREE: &str = "services:\n  web:\n    image: nginx\n    depends_on: [api]\n  api:\n    image: api\n    depends_on: [db]\n    environment: {DB_HOST: db}\n  db:\n    image: postgres\n    volumes: [data:/var/lib/db]\nvolumes:\n  data: {}\n";

/// What the runtime would report after `up` of `p` (all running).
fn observed_from(p: &Project) -> Observed {
    let mut o = Observed::default();
    for (name, s) in &p.services {
        for n in 1..=s.replicas().max(0) as u32 {
            o.containers.push(ObservedContainer {
                name: container_name(&p.name, s, n),
                service: name.clone(),
                number: n,
                config_hash: hash::service_hash(s).unwrap(),
                config: Some(hash::hashed_config(s).unwrap()),
                status: Status::Running,
            });
        }
    }
    o.networks = p.networks.values().map(|n| n.name.clone()).collect();
    o.volumes = p.volumes.values().map(|v| v.name.clone()).collect();
    o
}

#[test]
fn first_up_creates_in_dependency_order() {
    let p = project(THREE);
    let plan = plan_up(&p, &Observed::default(), &UpOptions::default()).unwrap();
    assert_eq!(
        plan.to_string(),
        "\
1. create network app_default (missing)
2. create volume app_data (missing)
3. create container app-db-1 (missing) after 1, 2
4. start container app-db-1 after 3
5. create container app-api-1 (missing) after 1, 4
6. start container app-api-1 after 5
7. create container app-web-1 (missing) after 1, 6
8. start container app-web-1 after 7
"
    );
}

#[test]
fn up_again_is_a_no_op() {
    let p = project(THREE);
    let plan = plan_up(&p, &observed_from(&p), &UpOptions::default()).unwrap();
    assert!(plan.is_empty(), "{plan}");
}

#[test]
fn changed_config_recreates_with_the_field_named() {
    let before = project(THREE);
    let after = project(&THREE.replace("DB_HOST: db", "DB_HOST: db2"));
    let plan = plan_up(&after, &observed_from(&before), &UpOptions::default()).unwrap();
    assert_eq!(
        plan.to_string(),
        "\
1. stop container app-api-1 (config changed: environment.DB_HOST)
2. remove container app-api-1 after 1
3. create container app-api-1 after 2
4. start container app-api-1 after 3
"
    );
    let none = UpOptions {
        no_recreate: true,
        ..UpOptions::default()
    };
    assert!(plan_up(&after, &observed_from(&before), &none)
        .unwrap()
        .is_empty());
}

#[test]
fn scale_up_and_down() {
    let p = project("services:\n  web:\n    image: nginx\n    deploy: {replicas: 3}\n");
    let observed = observed_from(&p);
    let mut opts = UpOptions::default();
    opts.scale.insert("web".into(), 5);
    assert_eq!(
        plan_up(&p, &observed, &opts).unwrap().to_string(),
        "\
1. create container app-web-4 (scaled 3→5)
2. start container app-web-4 after 1
3. create container app-web-5 (scaled 3→5)
4. start container app-web-5 after 3
"
    );
    opts.scale.insert("web".into(), 1);
    assert_eq!(
        plan_up(&p, &observed, &opts).unwrap().to_string(),
        "\
1. stop container app-web-3 (scaled 3→1)
2. remove container app-web-3 after 1
3. stop container app-web-2 (scaled 3→1)
4. remove container app-web-2 after 3
"
    );
}

#[test]
fn stopped_containers_start_and_orphans_are_named() {
    let p = project(THREE);
    let mut o = observed_from(&p);
    o.containers[0].status = Status::Exited { code: 0 };
    let stale = ObservedContainer {
        name: "app-old-1".into(),
        service: "old".into(),
        number: 1,
        config_hash: String::new(),
        config: None,
        status: Status::Running,
    };
    o.containers.push(stale);
    let plan = plan_up(&p, &o, &UpOptions::default()).unwrap();
    assert_eq!(
        plan.to_string(),
        format!(
            "1. start container {} (not running)\nwarning: found orphan containers (app-old-1) for this project; run with --remove-orphans to clean them up\n",
            o.containers[0].name
        )
    );
    let opts = UpOptions {
        remove_orphans: true,
        ..UpOptions::default()
    };
    assert!(plan_up(&p, &o, &opts)
        .unwrap()
        .to_string()
        .contains("stop container app-old-1 (orphan: its service is not in the project)"));
}

#[test]
fn down_stops_dependents_first_then_removes_resources() {
    let p = project(THREE);
    let plan = plan_down(
        &p,
        &observed_from(&p),
        &DownOptions {
            volumes: true,
            remove_orphans: false,
        },
    );
    assert_eq!(
        plan.to_string(),
        "\
1. stop container app-web-1 (down)
2. remove container app-web-1 after 1
3. stop container app-api-1 (down) after 1
4. remove container app-api-1 after 3
5. stop container app-db-1 (down) after 1, 3
6. remove container app-db-1 after 5
7. remove network app_default (down) after 2, 4, 6
8. remove volume app_data (down) after 2, 4, 6
"
    );
}

#[test]
fn force_recreate_and_no_start() {
    let p = project("services:\n  web:\n    image: nginx\n");
    let opts = UpOptions {
        force_recreate: true,
        ..UpOptions::default()
    };
    assert!(plan_up(&p, &observed_from(&p), &opts)
        .unwrap()
        .to_string()
        .starts_with("1. stop container app-web-1 (--force-recreate)\n"));
    let opts = UpOptions {
        no_start: true,
        ..UpOptions::default()
    };
    assert_eq!(
        plan_up(&p, &Observed::default(), &opts).unwrap().to_string(),
        "1. create network app_default (missing)\n2. create container app-web-1 (missing) after 1\n"
    );
}

const GATED: &str = "services:\n  web:\n    image: nginx\n    depends_on:\n      db: {condition: service_healthy, restart: true}\n      migrate: {condition: service_completed_successfully}\n      cache: {condition: service_healthy, required: false}\n  worker:\n    image: w\n    depends_on:\n      db: {condition: service_healthy}\n  db:\n    image: postgres\n  migrate:\n    image: m\n    depends_on: [db]\n  cache:\n    image: redis\n";

#[test]
fn conditions_wait_between_the_dependency_start_and_the_dependent() {
    let p = project(GATED);
    let plan = plan_up(&p, &Observed::default(), &UpOptions::default()).unwrap();
    let text = plan.to_string();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
            .to_string()
    };
    let number = |needle: &str| line(needle).split('.').next().unwrap().to_string();
    let db_start = number("start container app-db-1");
    let db_wait = line("wait for db to be healthy");
    assert!(
        db_wait.ends_with(&format!("(for web, worker) after {db_start}"))
            || db_wait.ends_with(&format!("(for worker, web) after {db_start}")),
        "one shared wait after db's start: {db_wait}\n{text}"
    );
    let cache_wait = line("wait for cache");
    assert!(
        cache_wait.contains("to be healthy (for web, optional)"),
        "{cache_wait}"
    );
    let migrate_wait = line("wait for migrate to complete successfully (for web)");
    let web_create = line("create container app-web-1");
    for wait in [&db_wait, &cache_wait, &migrate_wait] {
        let n = wait.split('.').next().unwrap();
        assert!(
            web_create
                .split(" after ")
                .nth(1)
                .unwrap()
                .split(", ")
                .any(|a| a == n),
            "web waits for step {n}: {web_create}\n{text}"
        );
    }
}

#[test]
fn nothing_to_do_means_no_wait_and_a_recreated_dependency_restarts_its_dependents() {
    let p = project(GATED);
    let plan = plan_up(&p, &observed_from(&p), &UpOptions::default()).unwrap();
    assert!(plan.is_empty(), "{plan}");
    let changed = project(&GATED.replace("image: postgres", "image: postgres:17"));
    let plan = plan_up(&changed, &observed_from(&p), &UpOptions::default()).unwrap();
    assert_eq!(
        plan.to_string(),
        "\
1. stop container app-db-1 (config changed: image)
2. remove container app-db-1 after 1
3. create container app-db-1 after 2
4. start container app-db-1 after 3
5. wait for db to be healthy (for web) after 4
6. wait for migrate to complete successfully (for web)
7. wait for cache to be healthy (for web, optional)
8. stop container app-web-1 (dependency db recreated, restart: true) after 4, 5, 6, 7
9. start container app-web-1 after 8
"
    );
}

#[test]
fn an_optional_dependency_left_out_by_a_profile_is_a_warning_and_no_wait() {
    let p = project("services:\n  web:\n    image: nginx\n    depends_on:\n      extra: {condition: service_healthy, required: false}\n  extra:\n    image: x\n    profiles: [extra]\n");
    let plan = plan_up(&p, &Observed::default(), &UpOptions::default()).unwrap();
    assert_eq!(
        plan.to_string(),
        "\
1. create network app_default (missing)
2. create container app-web-1 (missing) after 1
3. start container app-web-1 after 2
warning: web is missing optional dependency extra
"
    );
}
