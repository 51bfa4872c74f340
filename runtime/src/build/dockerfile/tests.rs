//! Instruction-level parser tests.

use super::*;
use std::time::Duration;

fn one(text: &str) -> Command {
    let df = parse("Dockerfile", &format!("FROM base\n{text}")).unwrap();
    assert_eq!(df.stages[0].instructions.len(), 1, "{text}");
    df.stages[0].instructions[0].command.clone()
}

fn err(text: &str) -> String {
    parse("Dockerfile", text).unwrap_err().to_string()
}

#[test]
fn from_with_platform_alias_and_global_args() {
    let df = parse(
        "Dockerfile",
        "ARG VER=1\nARG A B=2\nFROM --platform=$BUILDPLATFORM golang:${VER} AS Build\nFROM scratch\n",
    )
    .unwrap();
    assert_eq!(df.global_args.len(), 2);
    let Command::Arg(args) = &df.global_args[1].command else {
        panic!()
    };
    assert_eq!(
        args[0],
        ArgDecl {
            name: "A".into(),
            default: None
        }
    );
    assert_eq!(args[1].default.as_deref(), Some("2"));
    let from = &df.stages[0].from;
    assert_eq!(from.image, "golang:${VER}");
    assert_eq!(from.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(df.stages[0].name(), Some("build"));
    assert_eq!(df.stages[1].from.image, "scratch");
    assert_eq!(df.stages[1].line, 4);
}

#[test]
fn run_forms_and_flags() {
    let Command::Run(r) = one(
        "RUN --mount=type=cache,target=/root/.cache --network=none --security=insecure make all",
    ) else {
        panic!()
    };
    assert_eq!(r.command, CommandLine::Shell("make all".into()));
    assert_eq!(r.mounts, vec!["type=cache,target=/root/.cache"]);
    assert_eq!(r.network.as_deref(), Some("none"));
    assert_eq!(r.security.as_deref(), Some("insecure"));
    let Command::Run(r) = one(r#"RUN ["/bin/echo", "a b"]"#) else {
        panic!()
    };
    assert_eq!(
        r.command,
        CommandLine::Exec(vec!["/bin/echo".into(), "a b".into()])
    );
    // Malformed JSON is the shell form, as BuildKit treats it.
    let Command::Run(r) = one("RUN [ -f x ] && echo y") else {
        panic!()
    };
    assert_eq!(r.command, CommandLine::Shell("[ -f x ] && echo y".into()));
}

#[test]
fn run_heredoc_script_and_command_with_stdin() {
    let Command::Run(r) = one("RUN <<EOF\nset -e\necho hi\nEOF") else {
        panic!()
    };
    assert!(r.is_heredoc_script());
    assert_eq!(r.heredocs[0].content, "set -e\necho hi\n");
    let Command::Run(r) = one("RUN python3 <<'PY'\nprint('$HOME')\nPY") else {
        panic!()
    };
    assert!(!r.is_heredoc_script());
    assert!(!r.heredocs[0].expand);
}

#[test]
fn copy_and_add_flags_and_heredocs() {
    let Command::Copy(c) = one("COPY --from=build --chown=1000:1000 --chmod=0755 --link --parents --exclude=*.md --exclude=.git a b /dst/") else { panic!() };
    assert_eq!(c.sources, vec!["a", "b"]);
    assert_eq!(c.dest, "/dst/");
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("1000:1000"));
    assert_eq!(c.chmod.as_deref(), Some("0755"));
    assert!(c.link && c.parents);
    assert_eq!(c.exclude, vec!["*.md", ".git"]);
    let Command::Copy(c) = one("COPY <<a.txt <<b.txt /etc/\nA\na.txt\nB\nb.txt") else {
        panic!()
    };
    assert!(c.sources.is_empty());
    assert_eq!(
        c.heredocs
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>(),
        ["a.txt", "b.txt"]
    );
    assert_eq!(c.dest, "/etc/");
    let Command::Add(a) =
        one(r#"ADD --keep-git-dir=true --checksum=sha256:abc ["https://x/y.tgz", "/opt/"]"#)
    else {
        panic!()
    };
    assert!(a.keep_git_dir);
    assert_eq!(a.checksum.as_deref(), Some("sha256:abc"));
    assert_eq!(a.sources, vec!["https://x/y.tgz"]);
    assert!(err("FROM a\nADD --from=x a b").contains("ADD does not accept flag `--from`"));
    assert!(
        err("FROM a\nCOPY onlyone").contains("Dockerfile:2: COPY needs sources and a destination")
    );
}

#[test]
fn env_and_label_both_forms() {
    let Command::Env(e) = one(r#"ENV A="x y" B=z\ w C="""#) else {
        panic!()
    };
    assert_eq!(
        e.iter()
            .map(|kv| (kv.key.as_str(), kv.value.as_str()))
            .collect::<Vec<_>>(),
        [("A", "\"x y\""), ("B", "z\\ w"), ("C", "\"\"")]
    );
    let Command::Env(e) = one("ENV PATH /usr/local/bin:$PATH  and more") else {
        panic!()
    };
    assert_eq!(
        (e[0].key.as_str(), e[0].value.as_str()),
        ("PATH", "/usr/local/bin:$PATH  and more")
    );
    let Command::Label(l) = one(r#"LABEL org.opencontainers.image.title="demo app" version=1"#)
    else {
        panic!()
    };
    assert_eq!(l[0].key, "org.opencontainers.image.title");
    assert!(err("FROM a\nENV A=1 B").contains("Dockerfile:2: ENV expects `NAME=VALUE`, got `B`"));
    assert!(err("FROM a\nENV A").contains("ENV needs a name and a value"));
}

#[test]
fn simple_string_and_list_instructions() {
    assert_eq!(one("WORKDIR /app"), Command::Workdir("/app".into()));
    assert_eq!(one("USER app:app"), Command::User("app:app".into()));
    assert_eq!(
        one("STOPSIGNAL SIGQUIT"),
        Command::StopSignal("SIGQUIT".into())
    );
    assert_eq!(
        one("MAINTAINER me <me@x>"),
        Command::Maintainer("me <me@x>".into())
    );
    assert_eq!(
        one("EXPOSE 80/tcp 443"),
        Command::Expose(vec!["80/tcp".into(), "443".into()])
    );
    assert_eq!(
        one(r#"VOLUME ["/data", "/logs"]"#),
        Command::Volume(vec!["/data".into(), "/logs".into()])
    );
    assert_eq!(
        one("VOLUME /data /logs"),
        Command::Volume(vec!["/data".into(), "/logs".into()])
    );
    assert_eq!(
        one("CMD echo hi"),
        Command::Cmd(CommandLine::Shell("echo hi".into()))
    );
    assert_eq!(
        one(r#"ENTRYPOINT ["tini", "--"]"#),
        Command::Entrypoint(CommandLine::Exec(vec!["tini".into(), "--".into()]))
    );
    assert_eq!(
        one(r#"SHELL ["/bin/bash", "-o", "pipefail", "-c"]"#),
        Command::Shell(vec![
            "/bin/bash".into(),
            "-o".into(),
            "pipefail".into(),
            "-c".into()
        ])
    );
    assert!(err("FROM a\nSHELL /bin/bash -c").contains("SHELL must use the JSON form"));
    assert!(err("FROM a\nWORKDIR").contains("Dockerfile:2: WORKDIR needs a directory"));
}

#[test]
fn healthcheck_none_and_options() {
    assert_eq!(
        one("HEALTHCHECK NONE"),
        Command::Healthcheck(Healthcheck::None)
    );
    let Command::Healthcheck(Healthcheck::Check { test, interval, timeout, start_period, start_interval, retries }) =
        one("HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1")
    else { panic!() };
    assert_eq!(
        test,
        CommandLine::Shell("curl -f http://localhost/ || exit 1".into())
    );
    assert_eq!(interval, Some(Duration::from_secs(30)));
    assert_eq!(timeout, Some(Duration::from_secs(3)));
    assert_eq!(start_period, Some(Duration::from_secs(60)));
    assert_eq!(start_interval, Some(Duration::from_millis(500)));
    assert_eq!(retries, Some(3));
    assert!(err("FROM a\nHEALTHCHECK --interval=5 CMD x").contains("not a duration"));
    assert!(err("FROM a\nHEALTHCHECK curl x").contains("expects `NONE` or"));
}

#[test]
fn onbuild_wraps_an_instruction() {
    let Command::Onbuild(inner) = one("ONBUILD COPY --chown=app . /src") else {
        panic!()
    };
    let Command::Copy(c) = &inner.command else {
        panic!()
    };
    assert_eq!(c.chown.as_deref(), Some("app"));
    assert_eq!(inner.source, "COPY --chown=app . /src");
    assert!(err("FROM a\nONBUILD ONBUILD RUN x")
        .contains("ONBUILD is not allowed as an ONBUILD trigger"));
    assert!(err("FROM a\nONBUILD FROM x").contains("FROM is not allowed"));
}

#[test]
fn unknown_instruction_suggests_the_closest() {
    assert_eq!(
        err("FROM a\n\nRUNN make"),
        "Dockerfile:3: unknown instruction `RUNN` (did you mean `RUN`?)"
    );
    assert_eq!(
        err("FROM a\nFROBNICATE x"),
        "Dockerfile:2: unknown instruction `FROBNICATE`"
    );
    assert!(err("FROM a\ncopy-from x").contains("unknown instruction `copy-from`"));
}

#[test]
fn structure_errors() {
    assert_eq!(
        err("# comment\nRUN x\nFROM a"),
        "Dockerfile:2: RUN comes before the first FROM; only ARG may come before FROM"
    );
    assert!(err("ARG A\n").contains("has no FROM instruction"));
    assert!(err("FROM a AS 1bad").contains("stage name `1bad`"));
    assert!(err("FROM a b c d").contains("FROM expects"));
    assert!(err("FROM --plat=x a").contains("FROM does not accept flag `--plat`"));
}

#[test]
fn instructions_are_case_insensitive_and_keep_lines() {
    let df = parse("Dockerfile", "from a as B\nrun x \\\n  y\n\ncmd z").unwrap();
    let s = &df.stages[0];
    assert_eq!(s.name(), Some("b"));
    assert_eq!((s.instructions[0].line, s.instructions[0].end_line), (2, 3));
    assert_eq!(s.instructions[0].source, "run x   y");
    assert_eq!(s.instructions[1].line, 5);
}

#[test]
fn onbuild_triggers_of_a_base_image_parse_as_instructions() {
    let ins = parse_trigger("Dockerfile", 3, "COPY --chown=1 a.txt /b/").unwrap();
    assert_eq!(ins.line, 3);
    assert!(matches!(&ins.command, Command::Copy(c) if c.chown.as_deref() == Some("1")));
    for bad in ["ONBUILD RUN x", "FROM scratch", "MAINTAINER me"] {
        let e = parse_trigger("Dockerfile", 3, bad).unwrap_err().to_string();
        assert!(
            e.starts_with("Dockerfile:3: ") && e.contains("not allowed as an ONBUILD trigger"),
            "{bad}: {e}"
        );
    }
    assert!(parse_trigger("Dockerfile", 3, "NOPE x").is_err());
    assert!(matches!(
        parse_trigger("Dockerfile", 3, "RUN a\nRUN b"),
        Err(ParseError::BadTrigger { .. })
    ));
}

#[test]
fn heredoc_triggers_keep_their_bodies() {
    let df = parse(
        "Dockerfile",
        "FROM base\nONBUILD RUN <<EOF\necho one\necho two\nEOF\n",
    )
    .unwrap();
    let Command::Onbuild(inner) = &df.stages[0].instructions[0].command else {
        panic!("not ONBUILD");
    };
    let text = trigger_text(inner);
    assert_eq!(text, "RUN <<EOF\necho one\necho two\nEOF");
    let back = parse_trigger("Dockerfile", 1, &text).unwrap();
    let Command::Run(run) = back.command else {
        panic!("not RUN");
    };
    assert_eq!(run.heredocs[0].content, "echo one\necho two\n");
    assert!(run.is_heredoc_script());
}
