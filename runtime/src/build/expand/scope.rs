//! ARG and ENV scoping of a build (Dockerfile reference "ARG", "Scope",
//! "Predefined ARGs", "Automatic platform ARGs in the global scope"):
//!
//! - ARGs before the first FROM are global: usable in FROM lines only,
//!   unless a stage redeclares them (`ARG NAME` without a value takes the
//!   global value).
//! - A build arg (`--build-arg`) overrides an ARG's default.
//! - ENV overrides an ARG of the same name; ENV persists across the
//!   stage's instructions and into the image, ARG values do not.
//! - The proxy variables are predefined: given as build args they reach
//!   RUN without an ARG line; the platform ARGs are global automatically.

use super::shell::{ExpandError, Shell};
use crate::build::dockerfile::{ArgDecl, Command, Dockerfile, KeyValue};
use std::collections::{BTreeMap, BTreeSet};

/// Build args usable without an ARG instruction, in RUN's environment only.
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The build and target platform (`linux/amd64`, `linux/arm64/v8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this process runs on, named as OCI names it.
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".to_string(),
            arch: arch.to_string(),
            variant: None,
        }
    }

    fn name(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{}", self.os, self.arch, v),
            None => format!("{}/{}", self.os, self.arch),
        }
    }

    /// `{prefix}PLATFORM`, `{prefix}OS`, `{prefix}ARCH`, `{prefix}VARIANT`.
    fn args(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            (format!("{prefix}PLATFORM"), self.name()),
            (format!("{prefix}OS"), self.os.clone()),
            (format!("{prefix}ARCH"), self.arch.clone()),
            (
                format!("{prefix}VARIANT"),
                self.variant.clone().unwrap_or_default(),
            ),
        ]
    }
}

/// What the user passed: build args and platforms.
#[derive(Debug, Clone)]
pub struct BuildInputs {
    pub build_args: BTreeMap<String, String>,
    pub build_platform: Platform,
    pub target_platform: Platform,
}

impl BuildInputs {
    /// Host platforms and the given build args.
    pub fn new(build_args: BTreeMap<String, String>) -> BuildInputs {
        BuildInputs {
            build_args,
            build_platform: Platform::host(),
            target_platform: Platform::host(),
        }
    }

    fn platform_args(&self) -> Vec<(String, String)> {
        let mut v = self.build_platform.args("BUILD");
        v.extend(self.target_platform.args("TARGET"));
        v
    }
}

/// A global ARG default that cannot be expanded, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {source}")]
pub struct GlobalArgError {
    pub line: usize,
    pub source: ExpandError,
}

/// The global (before the first FROM) ARG values.
#[derive(Debug, Clone)]
pub struct GlobalScope {
    /// Declared global ARGs and their values (None: declared, no value).
    args: Vec<(String, Option<String>)>,
    platform: Vec<(String, String)>,
    escape: char,
}

impl GlobalScope {
    /// Evaluate the ARGs before the first FROM in order (a default may use
    /// an earlier global ARG).
    pub fn new(df: &Dockerfile, inputs: &BuildInputs) -> Result<GlobalScope, GlobalArgError> {
        let mut scope = GlobalScope {
            args: Vec::new(),
            platform: inputs.platform_args(),
            escape: df.directives.escape,
        };
        for ins in &df.global_args {
            if let Command::Arg(decls) = &ins.command {
                for d in decls {
                    let value = match inputs.build_args.get(&d.name) {
                        Some(v) => Some(v.clone()),
                        None => d
                            .default
                            .as_ref()
                            .map(|w| scope.expand(w))
                            .transpose()
                            .map_err(|source| GlobalArgError {
                                line: ins.line,
                                source,
                            })?,
                    };
                    scope.args.retain(|(n, _)| n != &d.name);
                    scope.args.push((d.name.clone(), value));
                }
            }
        }
        Ok(scope)
    }

    fn get(&self, name: &str) -> Option<String> {
        match self.args.iter().find(|(n, _)| n == name) {
            Some((_, v)) => v.clone(),
            None => self
                .platform
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
        }
    }

    /// Whether `name` is a global ARG (declared before the first FROM).
    pub fn declares(&self, name: &str) -> bool {
        self.args.iter().any(|(n, _)| n == name)
    }

    /// Expand a FROM image or `--platform` with the global ARGs.
    pub fn expand(&self, word: &str) -> Result<String, ExpandError> {
        let lookup = |n: &str| self.get(n);
        Shell::new(self.escape, &lookup).word(word)
    }
}

/// The variables of one stage while its instructions are processed.
#[derive(Debug, Clone)]
pub struct StageScope<'g> {
    global: &'g GlobalScope,
    inputs: &'g BuildInputs,
    /// Persistent environment (base image config, then ENV), in order.
    env: Vec<(String, String)>,
    /// ARGs declared in this stage so far, with their values.
    args: Vec<(String, Option<String>)>,
}

impl<'g> StageScope<'g> {
    /// A stage whose base image config has `base_env` (`KEY=VALUE`s split).
    pub fn new(
        global: &'g GlobalScope,
        inputs: &'g BuildInputs,
        base_env: Vec<(String, String)>,
    ) -> StageScope<'g> {
        StageScope {
            global,
            inputs,
            env: base_env,
            args: Vec::new(),
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.env.iter().find(|(n, _)| n == name) {
            return Some(v.clone());
        }
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    }

    /// Expand one word (WORKDIR, USER, a COPY source, a flag value).
    pub fn expand(&self, word: &str) -> Result<String, ExpandError> {
        self.expand_recording(word).map(|(s, _)| s)
    }

    /// Expand one word and return the variable names it referenced.
    pub fn expand_recording(&self, word: &str) -> Result<(String, BTreeSet<String>), ExpandError> {
        let lookup = |n: &str| self.get(n);
        let mut sh = Shell::new(self.global.escape, &lookup);
        let s = sh.word(word)?;
        Ok((s, sh.used))
    }

    /// Expand the body of a heredoc whose delimiter was not quoted
    /// (`Heredoc::expand`); quotes in the body stay.
    pub fn expand_heredoc(&self, body: &str) -> Result<String, ExpandError> {
        let lookup = |n: &str| self.get(n);
        Shell::new(self.global.escape, &lookup).heredoc(body)
    }

    /// Expand and split on unquoted blanks (EXPOSE, VOLUME words).
    pub fn expand_words(&self, text: &str) -> Result<Vec<String>, ExpandError> {
        let lookup = |n: &str| self.get(n);
        Shell::new(self.global.escape, &lookup).words(text)
    }

    /// `ARG NAME[=DEFAULT]` inside the stage: the build arg wins, then the
    /// default, then the global ARG's value, then the automatic platform
    /// value (`ARG TARGETARCH`).
    pub fn declare_args(&mut self, decls: &[ArgDecl]) -> Result<(), ExpandError> {
        for d in decls {
            let value = match self.inputs.build_args.get(&d.name) {
                Some(v) => Some(v.clone()),
                None => match &d.default {
                    Some(w) => Some(self.expand(w)?),
                    None => self.global.get(&d.name),
                },
            };
            self.args.retain(|(n, _)| n != &d.name);
            self.args.push((d.name.clone(), value));
        }
        Ok(())
    }

    /// `ENV` / `LABEL` pairs: keys and values are expanded against the
    /// state before the instruction (`ENV a=1 b=$a` sees the old `a`).
    pub fn expand_pairs(&self, pairs: &[KeyValue]) -> Result<Vec<(String, String)>, ExpandError> {
        pairs
            .iter()
            .map(|kv| Ok((self.expand(&kv.key)?, self.expand(&kv.value)?)))
            .collect()
    }

    /// Apply an `ENV` instruction.
    pub fn set_env(&mut self, pairs: &[KeyValue]) -> Result<(), ExpandError> {
        for (k, v) in self.expand_pairs(pairs)? {
            match self.env.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => self.env.push((k, v)),
            }
        }
        Ok(())
    }

    /// The persistent environment, for the image config.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// The ARGs in scope with a value, sorted: what a RUN sees besides ENV,
    /// and what its cache key must include.
    pub fn args(&self) -> BTreeMap<String, String> {
        self.args
            .iter()
            .filter_map(|(n, v)| v.clone().map(|v| (n.clone(), v)))
            .collect()
    }

    /// RUN's environment: ENV, then ARGs not shadowed by ENV, then proxy
    /// build args (not recorded in the image).
    pub fn run_env(&self) -> Vec<(String, String)> {
        let mut out = self.env.clone();
        let mut extra: BTreeMap<String, String> = self.args();
        for name in PROXY_ARGS {
            if let Some(v) = self.inputs.build_args.get(*name) {
                extra.entry(name.to_string()).or_insert_with(|| v.clone());
            }
        }
        for (k, v) in extra {
            if !out.iter().any(|(n, _)| *n == k) {
                out.push((k, v));
            }
        }
        out
    }
}

/// Build args that no ARG instruction declares (Docker warns "One or more
/// build-args [...] were not consumed"); predefined args never count.
pub fn unconsumed_build_args(df: &Dockerfile, inputs: &BuildInputs) -> Vec<String> {
    let mut declared: BTreeSet<&str> = BTreeSet::new();
    let all = df
        .global_args
        .iter()
        .chain(df.stages.iter().flat_map(|s| s.instructions.iter()));
    for ins in all {
        if let Command::Arg(decls) = &ins.command {
            declared.extend(decls.iter().map(|d| d.name.as_str()));
        }
    }
    inputs
        .build_args
        .keys()
        .filter(|k| !declared.contains(k.as_str()) && !PROXY_ARGS.contains(&k.as_str()))
        .cloned()
        .collect()
}
