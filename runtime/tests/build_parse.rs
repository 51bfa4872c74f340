//! The Dockerfile parser, expansion and stage planning over realistic
//! Dockerfiles: our own (each written to exercise what real projects use)
//! and every Dockerfile of the compose corpus, read in place.

use compose_runtime::build::dockerfile::{parse, parse_file, Command, CommandLine, Dockerfile};
use compose_runtime::build::expand::{BuildInputs, GlobalScope, StageScope};
use compose_runtime::build::plan::{plan, Base};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    if let Ok(dir) = std::env::var("COMPOSE_CORPUS") {
        return PathBuf::from(dir);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/compose-corpus");
    for candidate in [
        beside,
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/compose-corpus"),
    ] {
        if candidate.is_dir() {
            return candidate;
        }
    }
    PathBuf::from("/work/shared/compose-corpus")
}

fn dockerfiles(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().to_lowercase();
        if p.is_dir() {
            dockerfiles(&p, out);
        } else if name == "dockerfile"
            || name.ends_with(".dockerfile")
            || name.starts_with("dockerfile.")
        {
            out.push(p);
        }
    }
}

/// Apply the ARG/ENV of every stage of the plan; the expansion of each
/// WORKDIR, USER, COPY source and EXPOSE must succeed.
fn expand_everything(df: &Dockerfile, inputs: &BuildInputs) {
    let global = GlobalScope::new(df, inputs).unwrap();
    for stage in &df.stages {
        let mut scope = StageScope::new(&global, inputs, Vec::new());
        for ins in &stage.instructions {
            let at = format!("{}:{}", df.file, ins.line);
            match &ins.command {
                Command::Arg(d) => scope.declare_args(d).expect(&at),
                Command::Env(kv) => scope.set_env(kv).expect(&at),
                Command::Workdir(w) | Command::User(w) => {
                    assert!(!scope.expand(w).expect(&at).is_empty(), "{at}");
                }
                Command::Copy(c) | Command::Add(c) => {
                    for s in c.sources.iter().chain([&c.dest]) {
                        scope.expand(s).expect(&at);
                    }
                }
                Command::Expose(ports) => {
                    for p in ports {
                        assert!(!scope.expand_words(p).expect(&at).is_empty(), "{at}");
                    }
                }
                _ => {}
            }
        }
    }
}

#[test]
fn every_corpus_dockerfile_parses_plans_and_expands() {
    let mut files = Vec::new();
    dockerfiles(&corpus(), &mut files);
    assert!(
        files.len() >= 10,
        "corpus Dockerfiles not found under {}",
        corpus().display()
    );
    let inputs = BuildInputs::new(BTreeMap::new());
    for path in &files {
        let df = parse_file(path).unwrap_or_else(|e| panic!("{e}"));
        let p = plan(&df, &inputs, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.stages.last().unwrap().index, df.stages.len() - 1);
        for stage in &df.stages {
            if let Some(name) = stage.name() {
                let p = plan(&df, &inputs, Some(name)).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(
                    p.target,
                    df.stages
                        .iter()
                        .position(|s| s.name() == Some(name))
                        .unwrap()
                );
            }
        }
        expand_everything(&df, &inputs);
    }
}

#[test]
fn corpus_multi_stage_rust_backend() {
    let df = parse_file(&corpus().join("ac_react_rust_postgres/backend/Dockerfile")).unwrap();
    assert_eq!(
        df.directives.syntax.as_deref(),
        Some("docker/dockerfile:1.4")
    );
    let names: Vec<_> = df.stages.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            Some("base"),
            Some("development"),
            Some("dev-envs"),
            Some("builder"),
            None
        ]
    );
    let Command::Run(r) = &df.stages[2].instructions[1].command else {
        panic!()
    };
    assert!(r.is_heredoc_script());
    assert!(r.heredocs[0].content.starts_with("apt-get update\n"));
    let p = plan(&df, &BuildInputs::new(BTreeMap::new()), None).unwrap();
    let order: Vec<_> = p.stages.iter().map(|s| s.index).collect();
    assert_eq!(order, [0, 3, 4]);
    assert_eq!(p.images(), ["rust:buster", "debian:buster-slim"]);
    let p = plan(&df, &BuildInputs::new(BTreeMap::new()), Some("dev-envs")).unwrap();
    assert_eq!(p.stages.last().unwrap().image_deps, ["gloursdocker/docker"]);
}

#[test]
fn corpus_heredoc_with_a_command_and_backslashes_in_the_body() {
    let df = parse_file(&corpus().join("ac_wasmedge_kafka_mysql/etl/Dockerfile")).unwrap();
    let Command::Run(r) = &df.stages[0].instructions[0].command else {
        panic!()
    };
    assert_eq!(r.command, CommandLine::Shell("<<EOT bash".into()));
    assert!(!r.is_heredoc_script());
    assert!(
        r.heredocs[0]
            .content
            .contains("apt-get install -y \\\n        git \\\n"),
        "body lines are not joined"
    );
    let Command::Run(r) = &df.stages[1].instructions[2].command else {
        panic!()
    };
    assert_eq!(r.mounts.len(), 3, "comment lines are not instructions");
    let last = &df.stages[2];
    assert_eq!(last.from.image, "scratch");
    let Command::Copy(c) = &last.instructions[1].command else {
        panic!()
    };
    assert!(c.link);
    let p = plan(&df, &BuildInputs::new(BTreeMap::new()), None).unwrap();
    assert_eq!(p.stages.last().unwrap().base, Base::Scratch);
    assert_eq!(
        p.stages.iter().map(|s| s.index).collect::<Vec<_>>(),
        [0, 1, 2]
    );
}

const GO_SERVICE: &str = r#"# syntax=docker/dockerfile:1.7
# check=skip=JSONArgsRecommended

ARG GO_VERSION=1.22
ARG ALPINE_VERSION=3.19

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine${ALPINE_VERSION} AS build
ARG TARGETOS TARGETARCH
ARG VERSION=dev
WORKDIR /src
ENV CGO_ENABLED=0 \
    GOOS=${TARGETOS} \
    GOARCH=${TARGETARCH}
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    --mount=type=bind,source=go.mod,target=go.mod \
    go mod download -x
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,target=. \
    go build -ldflags "-X main.version=${VERSION}" -o /bin/server ./cmd/server

FROM alpine:${ALPINE_VERSION} AS final
RUN --mount=type=cache,target=/var/cache/apk \
    apk --update add ca-certificates tzdata && update-ca-certificates
ARG UID=10001
RUN adduser \
    --disabled-password \
    --gecos "" \
    --home "/nonexistent" \
    --shell "/sbin/nologin" \
    --no-create-home \
    --uid "${UID}" \
    appuser
USER appuser
COPY --from=build /bin/server /bin/
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["/bin/server", "-healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT [ "/bin/server" ]
"#;

#[test]
fn go_service_with_platform_args_and_cache_mounts() {
    let df = parse("Dockerfile", GO_SERVICE).unwrap();
    assert_eq!(
        df.directives.check.as_deref(),
        Some("skip=JSONArgsRecommended")
    );
    assert_eq!(df.global_args.len(), 2);
    let mut args = BTreeMap::new();
    args.insert("GO_VERSION".to_string(), "1.23".to_string());
    args.insert("VERSION".to_string(), "v2".to_string());
    let inputs = BuildInputs::new(args);
    let p = plan(&df, &inputs, None).unwrap();
    assert_eq!(p.images(), ["golang:1.23-alpine3.19", "alpine:3.19"]);
    let global = GlobalScope::new(&df, &inputs).unwrap();
    let mut scope = StageScope::new(&global, &inputs, Vec::new());
    for ins in &df.stages[0].instructions {
        match &ins.command {
            Command::Arg(d) => scope.declare_args(d).unwrap(),
            Command::Env(kv) => scope.set_env(kv).unwrap(),
            _ => {}
        }
    }
    let env: BTreeMap<_, _> = scope.env().iter().cloned().collect();
    assert_eq!(env["GOOS"], "linux");
    assert_eq!(env["CGO_ENABLED"], "0");
    assert_eq!(scope.args()["VERSION"], "v2");
    let Command::Run(r) = &df.stages[0].instructions[5].command else {
        panic!()
    };
    assert_eq!(r.mounts[1], "type=bind,target=.");
    let Command::Run(adduser) = &df.stages[1].instructions[2].command else {
        panic!()
    };
    let CommandLine::Shell(text) = &adduser.command else {
        panic!()
    };
    assert!(
        text.contains(r#"--gecos ""     --home"#),
        "continuations joined as BuildKit does: {text}"
    );
    assert_eq!(df.stages[1].instructions.len(), 9);
}

const WINDOWS_STYLE: &str = r#"# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
RUN New-Item -ItemType Directory C:\app ; `
    Set-Location C:\app
COPY . C:\app\
WORKDIR C:\app
"#;

#[test]
fn backtick_escape_keeps_backslash_paths() {
    let df = parse("Dockerfile", WINDOWS_STYLE).unwrap();
    assert_eq!(df.directives.escape, '`');
    let ins = &df.stages[0].instructions;
    assert_eq!(
        ins[1].command,
        Command::Run(compose_runtime::build::dockerfile::Run {
            command: CommandLine::Shell(
                "New-Item -ItemType Directory C:\\app ;     Set-Location C:\\app".into()
            ),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None,
        })
    );
    let Command::Copy(c) = &ins[2].command else {
        panic!()
    };
    assert_eq!(c.dest, "C:\\app\\");
    // The escape character comes from the Dockerfile's directive.
    let inputs = BuildInputs::new(BTreeMap::new());
    let global = GlobalScope::new(&df, &inputs).unwrap();
    let scope = StageScope::new(&global, &inputs, Vec::new());
    assert_eq!(scope.expand("C:\\app `$HOME").unwrap(), "C:\\app $HOME");
}

const NODE_APP: &str = r#"FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:20-slim
LABEL org.opencontainers.image.source="https://example.com/app" \
      maintainer="team <team@example.com>"
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node <<-"EOF" /app/.npmrc
	fund=false
	EOF
COPY --chown=node:node . .
USER node
EXPOSE $PORT
VOLUME ["/app/data"]
ONBUILD COPY . /app/extra
CMD node server.js
"#;

#[test]
fn node_app_with_labels_copy_heredoc_and_onbuild() {
    let df = parse("Dockerfile", NODE_APP).unwrap();
    let s = &df.stages[1];
    let Command::Label(l) = &s.instructions[0].command else {
        panic!()
    };
    assert_eq!(l.len(), 2);
    let Command::Copy(c) = &s.instructions[4].command else {
        panic!()
    };
    assert!(c.sources.is_empty());
    assert_eq!(c.heredocs[0].content, "fund=false\n");
    assert!(!c.heredocs[0].expand && c.heredocs[0].chomp);
    assert_eq!(c.dest, "/app/.npmrc");
    assert_eq!(s.instructions[5].line, 15, "lines count heredoc bodies");
    let Command::Onbuild(inner) = &s.instructions[9].command else {
        panic!()
    };
    assert!(matches!(inner.command, Command::Copy(_)));
    let inputs = BuildInputs::new(BTreeMap::new());
    let global = GlobalScope::new(&df, &inputs).unwrap();
    let mut scope = StageScope::new(&global, &inputs, Vec::new());
    let mut labels = Vec::new();
    for ins in &s.instructions {
        match &ins.command {
            Command::Env(kv) => scope.set_env(kv).unwrap(),
            Command::Label(kv) => labels = scope.expand_pairs(kv).unwrap(),
            Command::Expose(p) => assert_eq!(scope.expand_words(&p[0]).unwrap(), ["3000"]),
            _ => {}
        }
    }
    assert_eq!(
        labels[1],
        (
            "maintainer".to_string(),
            "team <team@example.com>".to_string()
        )
    );
}

#[test]
fn mistakes_are_reported_with_file_and_line() {
    let e = parse(
        "web/Dockerfile",
        "FROM alpine\nRUN apk add curl\nCOPPY . /app\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "web/Dockerfile:3: unknown instruction `COPPY` (did you mean `COPY`?)"
    );
    let e = parse("Dockerfile", "FROM alpine\nEXPOSE 80\nENTRYPOINT\n").unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile:3: ENTRYPOINT needs a command");
    let df = parse("Dockerfile", GO_SERVICE).unwrap();
    let e = plan(&df, &BuildInputs::new(BTreeMap::new()), Some("finall")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "target stage `finall` could not be found in Dockerfile (did you mean `final`?)"
    );
}
