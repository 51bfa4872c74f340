//! `top`, `stats`, `wait` and `ls` against running projects. Needs root.

mod up_support;

use std::time::{Duration, Instant};
use up_support::{stderr, Project};

#[test]
fn top_lists_each_containers_processes() {
    let p = Project::new(
        "top",
        "services:\n  web:\n    image: IMAGE\n    command: sh -c 'sleep 3601 & exec sleep 3600'\n  db:\n    image: IMAGE\n    command: sleep 3602\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    // The background sleep may take a moment to start.
    let deadline = Instant::now() + Duration::from_secs(20);
    let out = loop {
        let out = p.ok(&["top"]);
        if out.contains("sleep 3601") || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["SERVICE", "#", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{out}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let cmd_of = |service: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r[0] == service)
            .map(|r| r[9..].join(" "))
            .collect()
    };
    // Containers in name order (db before web), every row of web names it.
    assert_eq!(rows[0][0], "db", "{out}");
    assert!(cmd_of("db").contains(&"sleep 3602".to_string()), "{out}");
    let web = cmd_of("web");
    assert!(web.contains(&"sleep 3600".to_string()), "{out}");
    assert!(web.contains(&"sleep 3601".to_string()), "{out}");
    for row in &rows {
        assert_eq!(row[1], "1", "{out}");
        assert_eq!(row[2], "root", "{out}");
        let pid: i32 = row[3].parse().unwrap();
        // Host pids: each is a live process whose cmdline matches.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert_eq!(cmdline.trim_end(), row[9..].join(" "), "{out}");
        assert_eq!(row[7], "?", "{out}");
        assert!(row[8].len() == 8 && row[8].contains(':'), "{out}");
    }
    // Only the named service.
    let db_only = p.ok(&["top", "db"]);
    assert!(!db_only.contains("sleep 3600"), "{db_only}");
    assert!(db_only.contains("sleep 3602"), "{db_only}");
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn stats_show_usage_from_the_cgroup_and_netns() {
    let p = Project::new(
        "stats",
        "services:\n  web:\n    image: IMAGE\n    mem_limit: 64m\n    command: sh -c 'dd if=/dev/zero of=/dev/null bs=1M count=1 2>/dev/null; exec sleep 3600'\n  idle:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    let out = p.ok(&["stats", "--no-stream"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("CONTAINER ID   NAME"), "header: {out}");
    for col in [
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ] {
        assert!(lines[0].contains(col), "{col}: {out}");
    }
    let web = lines
        .iter()
        .find(|l| l.contains(&p.container("web", 1)))
        .unwrap();
    assert!(web.contains(" / 64MiB"), "{out}");
    let json = p.ok(&["stats", "--no-stream", "--format", "json", "web"]);
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{json}");
    let row = &rows[0];
    assert_eq!(row["Name"], p.container("web", 1));
    assert_eq!(row["ID"].as_str().unwrap().len(), 12);
    assert!(
        row["MemUsage"].as_str().unwrap().ends_with(" / 64MiB"),
        "{row}"
    );
    assert!(row["CPUPerc"].as_str().unwrap().ends_with('%'), "{row}");
    // The init and the sleep.
    assert_eq!(row["PIDs"], "2", "{row}");
    assert!(row["NetIO"].as_str().unwrap().contains(" / "), "{row}");
    // Streaming: more than one table until killed.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name, "stats", "--format", "json", "idle"])
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2600));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 2, "{text}");
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn wait_returns_when_the_containers_exit_with_the_last_code() {
    let p = Project::new(
        "wait",
        "services:\n  a:\n    image: IMAGE\n    command: sh -c 'sleep 1; exit 3'\n  b:\n    image: IMAGE\n    command: sh -c 'sleep 2; exit 5'\n  c:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    let started = Instant::now();
    let out = p.compose(&["wait", "a", "b"]);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].ends_with("exited with status code 3"), "{stdout}");
    assert!(lines[1].ends_with("exited with status code 5"), "{stdout}");
    assert!(lines[0].starts_with("container \""), "{stdout}");
    // Nothing running for them any more: an error, as docker compose.
    let again = p.compose(&["wait", "a"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("no running containers"),
        "{}",
        stderr(&again)
    );
    // --down-project takes the project down once they exited.
    p.ok(&["kill", "c"]);
    p.ok(&["start", "a"]);
    let out = p.compose(&["wait", "--down-project", "a"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn ls_lists_projects_with_status_and_config_files() {
    let p = Project::new(
        "ls",
        "services:\n  a:\n    image: IMAGE\n    command: sleep 3600\n  b:\n    image: IMAGE\n    command: sleep 3600\n  once:\n    image: IMAGE\n    command: 'true'\n",
    );
    assert_eq!(p.ok(&["ls", "-q"]), "");
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    let file = p.dir.join("compose.yaml").display().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while p.ok(&["ps", "-q"]).lines().count() != 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = p.ok(&["ls"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "STATUS", "CONFIG", "FILES"]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row, [p.name.as_str(), "running(2)", file.as_str()], "{out}");
    let all = p.ok(&["ls", "-a", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&all).unwrap();
    assert_eq!(
        list,
        serde_json::json!([{"Name": p.name, "Status": "exited(1), running(2)", "ConfigFiles": file}])
    );
    assert_eq!(p.ok(&["ls", "-q"]), format!("{}\n", p.name));
    assert_eq!(p.ok(&["ls", "-q", "--filter", "name=nomatch"]), "");
    p.ok(&["stop", "-t", "0"]);
    assert_eq!(p.ok(&["ls", "-q"]), "");
    p.ok(&["down", "-t", "0"]);
    assert_eq!(p.ok(&["ls", "-a", "-q"]), "");
    // The supervisor removes the project's directory, the record of the
    // Compose files with it, when it exits.
    let project_dir = p.root.path().join("projects").join(&p.name);
    // Generous: on a loaded machine the supervisor's exit can lag.
    let deadline = Instant::now() + Duration::from_secs(30);
    while project_dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !project_dir.exists(),
        "{:?}",
        std::fs::read_dir(&project_dir).map(|d| d.count())
    );
    p.assert_nothing_left(&names, &pids);
}
