//! Scoping tests over parsed Dockerfiles.

use super::*;
use crate::build::dockerfile::{parse, Command, Dockerfile};
use std::collections::BTreeMap;

fn inputs(args: &[(&str, &str)]) -> BuildInputs {
    let mut i = BuildInputs::new(
        args.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    i.target_platform = Platform {
        os: "linux".into(),
        arch: "arm64".into(),
        variant: Some("v8".into()),
    };
    i
}

/// Walk stage 0 applying ARG and ENV, return the scope at the end.
fn walk<'g>(df: &Dockerfile, g: &'g GlobalScope, i: &'g BuildInputs) -> StageScope<'g> {
    let mut s = StageScope::new(g, i, vec![("PATH".into(), "/bin".into())]);
    for ins in &df.stages[0].instructions {
        match &ins.command {
            Command::Arg(d) => s.declare_args(d).unwrap(),
            Command::Env(kv) => s.set_env(kv).unwrap(),
            _ => {}
        }
    }
    s
}

#[test]
fn global_args_reach_from_and_only_redeclared_ones_reach_the_stage() {
    let df = parse(
        "Dockerfile",
        "ARG BASE=alpine\nARG TAG=${BASE}-3\nARG HIDDEN=h\nFROM $BASE:${TAG} AS x\nARG TAG\nENV T=$TAG H=${HIDDEN:-none}\n",
    )
    .unwrap();
    let i = inputs(&[]);
    let g = GlobalScope::new(&df, &i).unwrap();
    assert_eq!(
        g.expand(&df.stages[0].from.image).unwrap(),
        "alpine:alpine-3"
    );
    let s = walk(&df, &g, &i);
    assert_eq!(
        s.env(),
        [
            ("PATH".to_string(), "/bin".to_string()),
            ("T".into(), "alpine-3".into()),
            ("H".into(), "none".into())
        ]
    );
}

#[test]
fn build_args_override_defaults_and_env_overrides_args() {
    let df = parse(
        "Dockerfile",
        "ARG V=1\nFROM a\nARG V\nARG W=w\nARG X=x\nENV X=env\nENV OUT=$V-$W-$X\n",
    )
    .unwrap();
    let i = inputs(&[("V", "cli"), ("W", "cli-w")]);
    let g = GlobalScope::new(&df, &i).unwrap();
    let s = walk(&df, &g, &i);
    assert_eq!(s.env().last().unwrap().1, "cli-cli-w-env");
    let args = s.args();
    assert_eq!(args.get("X").map(String::as_str), Some("x"));
    let run = s.run_env();
    assert_eq!(
        run.iter().filter(|(k, _)| k == "X").collect::<Vec<_>>(),
        [&("X".to_string(), "env".to_string())],
        "ENV shadows the ARG in RUN's environment"
    );
}

#[test]
fn env_pairs_see_the_state_before_the_instruction() {
    let df = parse(
        "Dockerfile",
        "FROM a\nENV A=old\nENV A=new B=$A\nENV C=${A}\n",
    )
    .unwrap();
    let i = inputs(&[]);
    let g = GlobalScope::new(&df, &i).unwrap();
    let s = walk(&df, &g, &i);
    let env: BTreeMap<_, _> = s.env().iter().cloned().collect();
    assert_eq!(env["B"], "old");
    assert_eq!(env["C"], "new");
}

#[test]
fn platform_args_are_global_and_declarable() {
    let df = parse(
        "Dockerfile",
        "FROM --platform=$BUILDPLATFORM img-$TARGETARCH\nENV E=${TARGETARCH:-unset}\nARG TARGETARCH TARGETPLATFORM\nENV F=$TARGETARCH G=$TARGETPLATFORM\n",
    )
    .unwrap();
    let i = inputs(&[]);
    let g = GlobalScope::new(&df, &i).unwrap();
    assert_eq!(g.expand(&df.stages[0].from.image).unwrap(), "img-arm64");
    let s = walk(&df, &g, &i);
    let env: BTreeMap<_, _> = s.env().iter().cloned().collect();
    assert_eq!(env["E"], "unset", "not in the stage before ARG");
    assert_eq!(env["F"], "arm64");
    assert_eq!(env["G"], "linux/arm64/v8");
}

#[test]
fn proxy_args_reach_run_only_and_unused_args_are_reported() {
    let df = parse(
        "Dockerfile",
        "ARG G\nFROM a\nARG S\nENV P=${HTTP_PROXY:-none}\n",
    )
    .unwrap();
    let i = inputs(&[
        ("HTTP_PROXY", "http://p:3128"),
        ("S", "1"),
        ("NOPE", "x"),
        ("G", "g"),
    ]);
    let g = GlobalScope::new(&df, &i).unwrap();
    let s = walk(&df, &g, &i);
    let env: BTreeMap<_, _> = s.env().iter().cloned().collect();
    assert_eq!(env["P"], "none");
    assert!(s
        .run_env()
        .contains(&("HTTP_PROXY".into(), "http://p:3128".into())));
    assert!(!s.args().contains_key("HTTP_PROXY"));
    assert_eq!(unconsumed_build_args(&df, &i), vec!["NOPE"]);
}

#[test]
fn recording_names_referenced_variables() {
    let df = parse("Dockerfile", "FROM a\nARG V=1\n").unwrap();
    let i = inputs(&[]);
    let g = GlobalScope::new(&df, &i).unwrap();
    let s = walk(&df, &g, &i);
    let (out, used) = s.expand_recording("/opt/$V/${MISSING:-m}").unwrap();
    assert_eq!(out, "/opt/1/m");
    assert_eq!(used.into_iter().collect::<Vec<_>>(), ["MISSING", "V"]);
    assert_eq!(s.expand_words("80 $V").unwrap(), vec!["80", "1"]);
}
