//! Stage resolution tests.

use super::*;
use crate::build::dockerfile::parse;
use std::collections::BTreeMap;

fn plan_of(
    text: &str,
    target: Option<&str>,
    args: &[(&str, &str)],
) -> Result<BuildPlan, PlanError> {
    let df = parse("Dockerfile", text).unwrap();
    let args: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    plan(&df, &BuildInputs::new(args), target)
}

fn order(p: &BuildPlan) -> Vec<usize> {
    p.stages.iter().map(|s| s.index).collect()
}

const MULTI: &str = "\
ARG GO=1.22
FROM golang:${GO} AS build
RUN go build
FROM node AS node
RUN npm ci
FROM build AS test
RUN go test
FROM alpine AS final
COPY --from=build /out /bin/
COPY --from=node /dist /www
COPY --from=nginx:alpine /etc/nginx /etc/nginx
FROM scratch AS tiny
COPY --from=0 /out /
";

#[test]
fn default_target_is_the_last_stage_with_its_dependencies() {
    let p = plan_of(MULTI, None, &[]).unwrap();
    assert_eq!(order(&p), [0, 4]);
    assert_eq!(p.target, 4);
    assert_eq!(p.stages[1].base, Base::Scratch);
    assert_eq!(p.stages[0].base, Base::Image("golang:1.22".into()));
    assert_eq!(p.images(), ["golang:1.22"]);
}

#[test]
fn named_target_pulls_in_copy_from_stages_and_images() {
    let p = plan_of(MULTI, Some("FINAL"), &[("GO", "1.23")]).unwrap();
    assert_eq!(order(&p), [0, 1, 3]);
    let last = p.stages.last().unwrap();
    assert_eq!(last.stage_deps, [0, 1]);
    assert_eq!(last.image_deps, ["nginx:alpine"]);
    assert_eq!(
        p.images(),
        ["golang:1.23", "node", "alpine", "nginx:alpine"]
    );
    let p = plan_of(MULTI, Some("test"), &[]).unwrap();
    assert_eq!(order(&p), [0, 2]);
    assert_eq!(p.stages[1].base, Base::Stage(0));
}

#[test]
fn from_names_only_earlier_stages() {
    let p = plan_of("FROM node AS node\nFROM node\n", None, &[]).unwrap();
    assert_eq!(p.stages[0].base, Base::Image("node".into()));
    assert_eq!(p.stages[1].base, Base::Stage(0));
    assert_eq!(order(&p), [0, 1]);
    let p = plan_of("FROM app\nFROM alpine AS app\n", Some("app"), &[]).unwrap();
    assert_eq!(order(&p), [1]);
}

#[test]
fn copy_from_and_mounts_expand_args_and_may_name_later_stages() {
    let text = "FROM a AS one\nARG SRC=two\nCOPY --from=$SRC /x /x\nRUN --mount=type=cache,target=/c,from=three true\nFROM b AS two\nFROM c AS three\n";
    let p = plan_of(text, Some("one"), &[]).unwrap();
    assert_eq!(order(&p), [1, 2, 0]);
}

#[test]
fn cycles_unknown_targets_and_bad_indices_are_errors() {
    let e = plan_of(
        "FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /\n",
        None,
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "circular dependency between stages: y -> x -> y"
    );
    let e = plan_of(MULTI, Some("biuld"), &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "target stage `biuld` could not be found in Dockerfile (did you mean `build`?)"
    );
    let e = plan_of(MULTI, Some("zzz"), &[]).unwrap_err();
    assert!(e
        .to_string()
        .ends_with("(stages: build, node, test, final, tiny)"));
    let e = plan_of("FROM a\nFROM b\nCOPY --from=1 / /\n", None, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Dockerfile:3: --from=1 must be the index of an earlier stage (this is stage 1) or a stage or image name"
    );
    let e = plan_of("ARG IMG\nFROM $IMG\n", None, &[]).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("Dockerfile:2: FROM expands to an empty image name"));
    let e = plan_of("FROM a\nARG S\nCOPY --from=${S:?unset} / /\n", None, &[]).unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile:3: S: unset");
    let e = plan_of("ARG A=1\nARG B=${A:+x}${C:?required}\nFROM a\n", None, &[]).unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile:2: C: required");
    let p = plan_of("ARG IMG\nFROM $IMG\n", None, &[("IMG", "debian")]).unwrap();
    assert_eq!(p.images(), ["debian"]);
}

#[test]
fn platform_is_expanded() {
    let p = plan_of("FROM --platform=$BUILDPLATFORM a\n", None, &[]).unwrap();
    let host = crate::build::expand::Platform::host();
    assert_eq!(
        p.stages[0].platform.as_deref(),
        Some(format!("linux/{}", host.arch).as_str())
    );
    assert_eq!(mount_from("type=bind, from=x ,source=/"), Some("x".into()));
}
