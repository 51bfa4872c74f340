//! Bad input never panics: Dockerfiles assembled at random from the
//! tokens that matter to the parser (quotes, escapes, heredocs, flags,
//! continuations, `${...}`) go through parsing, planning, expansion and
//! config application; every outcome must be a value or a typed error.

use compose_runtime::build::config::Stage;
use compose_runtime::build::dockerfile::parse;
use compose_runtime::build::expand::{BuildInputs, GlobalScope, StageScope};
use compose_runtime::build::plan::plan;
use compose_runtime::image::oci::RunConfig;
use std::collections::BTreeMap;

const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "COPY",
    "ADD",
    "ARG",
    "ENV",
    "LABEL",
    "WORKDIR",
    "USER",
    "EXPOSE",
    "VOLUME",
    "CMD",
    "ENTRYPOINT",
    "SHELL",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "ONBUILD",
    "MAINTAINER",
    "run",
];

const TOKENS: &[&str] = &[
    "AS",
    "scratch",
    "NONE",
    "CMD",
    " ",
    " ",
    " ",
    "\t",
    "\\\n",
    "\\",
    "`",
    "\"",
    "'",
    "$",
    "${",
    "}",
    ":-",
    ":+",
    ":?",
    "-",
    "+",
    "?",
    "$A",
    "A=",
    "=",
    "<<EOF",
    "<<-'X'",
    "3<<E",
    "#",
    "[",
    "]",
    "[\"a\",",
    "\"b\"]",
    "--from=",
    "--chown=",
    "--mount=from=",
    "--platform=",
    "--interval=",
    "--retries=",
    "--link",
    "--x",
    "--",
    "0",
    "1",
    "80/tcp",
    "1s",
    "/",
    ".",
    "..",
    "é",
    "a",
    "b",
];

/// Lines that may follow a heredoc line, or break things between lines.
const RAW: &[&str] = &[
    "EOF\n",
    "\tX\n",
    "E\n",
    "\n",
    "# c\n",
    "# escape=`\n",
    "\\\n",
];

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Returns whether the text parsed (so the test can tell it reached the
/// later stages often enough to mean something).
fn exercise(text: &str) -> bool {
    let Ok(df) = parse("Dockerfile", text) else {
        return false;
    };
    let inputs = BuildInputs::new(BTreeMap::from([("A".to_string(), "x".to_string())]));
    let _ = plan(&df, &inputs, None);
    let _ = plan(&df, &inputs, Some("a"));
    let Ok(global) = GlobalScope::new(&df, &inputs) else {
        return true;
    };
    for s in &df.stages {
        let _ = global.expand(&s.from.image);
        let mut stage = Stage::new(
            "Dockerfile",
            RunConfig::default(),
            StageScope::new(&global, &inputs, Vec::new()),
        );
        for ins in &s.instructions {
            let _ = stage.apply(ins);
            let _ = stage.scope.expand(&ins.source);
            let _ = stage.scope.expand_words(&ins.source);
            let _ = stage.scope.expand_heredoc(&ins.source);
        }
    }
    true
}

#[test]
fn random_dockerfiles_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut text = String::from("FROM a\n");
        for _ in 0..1 + rng.next() % 6 {
            let pick = |rng: &mut Rng, from: &[&'static str]| {
                from[(rng.next() % from.len() as u64) as usize]
            };
            text.push_str(pick(&mut rng, KEYWORDS));
            for _ in 0..1 + rng.next() % 6 {
                text.push(' ');
                text.push_str(pick(&mut rng, TOKENS));
            }
            text.push('\n');
            if rng.next() % 4 == 0 {
                text.push_str(pick(&mut rng, RAW));
            }
        }
        match std::panic::catch_unwind(|| exercise(&text)) {
            Ok(ok) => parsed += usize::from(ok),
            Err(_) => panic!("panicked on {text:?}"),
        }
    }
    assert!(parsed > 1_000, "only {parsed} of 20000 inputs parsed: the generator is too hostile to test the later stages");
}
