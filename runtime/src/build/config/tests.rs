//! Config instructions applied over a base image config.

use super::*;
use crate::build::dockerfile::parse;
use crate::build::expand::{BuildInputs, GlobalScope};
use std::collections::BTreeMap;

fn base() -> RunConfig {
    RunConfig {
        env: vec!["PATH=/usr/bin:/bin".into()],
        cmd: Some(vec!["sh".into()]),
        working_dir: Some("/srv".into()),
        ..RunConfig::default()
    }
}

/// Apply every instruction of the only stage; return config and outcomes.
fn run(text: &str) -> Result<(RunConfig, Vec<Outcome>), ConfigError> {
    let df = parse("Dockerfile", text).unwrap();
    let inputs = BuildInputs::new(BTreeMap::from([("V".to_string(), "9".to_string())]));
    let global = GlobalScope::new(&df, &inputs).unwrap();
    let mut stage = Stage::from_base("Dockerfile", base(), &global, &inputs);
    let mut outcomes = Vec::new();
    for ins in &df.stages[0].instructions {
        outcomes.push(stage.apply(ins)?);
    }
    Ok((stage.config, outcomes))
}

#[test]
fn env_label_workdir_user_and_expansion() {
    let (c, out) = run(
        "FROM b\nARG V=1\nENV APP=/app PATH=/app/bin:$PATH\nLABEL version=$V \"a b\"=c\nWORKDIR $APP\nWORKDIR sub/../src\nUSER ${U:-app}:app\nRUN make\n",
    )
    .unwrap();
    assert_eq!(c.env, ["PATH=/app/bin:/usr/bin:/bin", "APP=/app"]);
    assert_eq!(c.labels["version"], "9");
    assert_eq!(c.labels["a b"], "c");
    assert_eq!(c.working_dir.as_deref(), Some("/app/src"));
    assert_eq!(c.user.as_deref(), Some("app:app"));
    assert_eq!(out.last(), Some(&Outcome::Execute));
    assert_eq!(out[0], Outcome::ConfigOnly);
}

#[test]
fn cmd_entrypoint_and_shell() {
    let (c, _) = run("FROM b\nENTRYPOINT [\"tini\", \"--\"]\n").unwrap();
    assert_eq!(
        c.entrypoint,
        Some(vec!["tini".to_string(), "--".to_string()])
    );
    assert_eq!(c.cmd, None, "ENTRYPOINT resets an inherited CMD");
    let (c, _) = run("FROM b\nCMD [\"serve\"]\nENTRYPOINT [\"app\"]\n").unwrap();
    assert_eq!(
        c.cmd,
        Some(vec!["serve".to_string()]),
        "but not one set in the stage"
    );
    let (c, _) =
        run("FROM b\nSHELL [\"/bin/bash\", \"-euo\", \"pipefail\", \"-c\"]\nCMD echo $HOME\n")
            .unwrap();
    assert_eq!(
        c.cmd,
        Some(vec![
            "/bin/bash".into(),
            "-euo".into(),
            "pipefail".into(),
            "-c".into(),
            "echo $HOME".into()
        ])
    );
}

#[test]
fn expose_volume_stopsignal_healthcheck() {
    let (c, _) = run(
        "FROM b\nENV P=8080\nEXPOSE $P 53/udp 9000-9001\nVOLUME /data\nVOLUME [\"/a\", \"/b\"]\nSTOPSIGNAL SIGQUIT\nHEALTHCHECK --interval=30s --retries=2 CMD curl -f localhost\n",
    )
    .unwrap();
    let ports: Vec<_> = c.exposed_ports.keys().cloned().collect();
    assert_eq!(ports, ["53/udp", "8080/tcp", "9000/tcp", "9001/tcp"]);
    assert!(
        c.volumes.contains_key("/data")
            && c.volumes.contains_key("/a")
            && c.volumes.contains_key("/b")
    );
    assert_eq!(c.stop_signal.as_deref(), Some("SIGQUIT"));
    assert_eq!(
        c.healthcheck,
        Some(
            json!({"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 30_000_000_000u64, "Retries": 2})
        )
    );
    let (c, _) = run("FROM b\nHEALTHCHECK NONE\n").unwrap();
    assert_eq!(c.healthcheck, Some(json!({"Test": ["NONE"]})));
    let (c, _) = run("FROM b\nHEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n").unwrap();
    assert_eq!(
        c.healthcheck,
        Some(json!({"Test": ["CMD", "/bin/check", "-q"]}))
    );
}

#[test]
fn maintainer_and_onbuild_are_reported() {
    let (_, out) = run("FROM b\nMAINTAINER Jane <j@x>\nONBUILD RUN make\n").unwrap();
    assert_eq!(
        out,
        [
            Outcome::Author("Jane <j@x>".into()),
            Outcome::Trigger("RUN make".into())
        ]
    );
}

#[test]
fn errors_name_the_line() {
    let e = run("FROM b\nEXPOSE 80/http\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Dockerfile:2: EXPOSE `80/http` is not a port, a port range or PORT/PROTOCOL (tcp, udp, sctp)"
    );
    let e = run("FROM b\nUSER $NOBODY\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Dockerfile:2: USER expands to an empty value"
    );
    let e = run("FROM b\nWORKDIR ${D:?set D to the app directory}\n").unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile:2: D: set D to the app directory");
}

#[test]
fn workdir_joins() {
    assert_eq!(join_workdir("/", "app"), "/app");
    assert_eq!(join_workdir("/a/b", "../c"), "/a/c");
    assert_eq!(join_workdir("/a", "/x/./y/"), "/x/y");
    assert_eq!(join_workdir("/", ".."), "/");
}
