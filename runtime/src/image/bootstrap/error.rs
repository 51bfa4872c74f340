//! Why a bootstrap failed. Each variant says what to do about it.

use crate::image::store::StoreError;
use std::path::PathBuf;

/// A failed `image bootstrap`; nothing was tagged.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("cannot bootstrap `{reference}`: {reason}")]
    NotBootstrappable { reference: String, reason: String },
    #[error("`{reference}` names no {distro} suite: use {examples}")]
    UnknownSuite {
        reference: String,
        distro: &'static str,
        examples: &'static str,
    },
    #[error(
        "no {distro} mirror in the host's apt sources ({}); pass one with --mirror {example}",
        files_text(files)
    )]
    NoMirror {
        distro: &'static str,
        files: Vec<PathBuf>,
        example: &'static str,
    },
    #[error(
        "the {distro} archive keyring `{}` is missing, so packages from the mirror cannot be \
         verified: install it with `apt-get install {package}`",
        path.display()
    )]
    KeyringMissing {
        distro: &'static str,
        path: PathBuf,
        package: &'static str,
    },
    #[error("--mirror `{mirror}` is not an http://, https:// or file:/ URL")]
    BadMirror { mirror: String },
    #[error(
        "neither mmdebstrap nor debootstrap is installed: `apt-get install mmdebstrap` \
         (or debootstrap)"
    )]
    NoTool,
    #[error("--tool {tool}: `{tool}` is not installed (`apt-get install {tool}`)")]
    ToolMissing { tool: &'static str },
    #[error(
        "debootstrap has no script for `{suite}` (`{}` is missing): install mmdebstrap, which \
         needs none, or a newer debootstrap",
        path.display()
    )]
    NoDebootstrapScript { suite: String, path: PathBuf },
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("`{command}` {}{}", exit_text(*code, *signal), tail_text(tail))]
    ToolFailed {
        command: String,
        code: Option<i32>,
        signal: Option<i32>,
        /// The last lines it printed.
        tail: Vec<String>,
    },
    #[error("cannot catch SIGINT and SIGTERM while the tool runs: {0}")]
    Signals(nix::Error),
    #[error("cannot wait for `{command}`: {source}")]
    Wait {
        command: String,
        source: std::io::Error,
    },
    #[error("interrupted: nothing was imported")]
    Interrupted,
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("importing the bootstrapped root filesystem: {0}")]
    Store(#[from] StoreError),
}

fn files_text(files: &[PathBuf]) -> String {
    if files.is_empty() {
        return "no source files found under /etc/apt".to_string();
    }
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    format!("read {}", names.join(", "))
}

fn exit_text(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(code), _) => format!("failed with exit code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        (None, None) => "failed".to_string(),
    }
}

fn tail_text(tail: &[String]) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let mut s = String::from("; its last lines:");
    for line in tail {
        s.push_str("\n  ");
        s.push_str(line);
    }
    s
}
