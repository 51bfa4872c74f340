//! Why executing a build failed. The step is named by its Dockerfile
//! location; a failed RUN carries its exit code and the tail of its output.

use super::super::dockerfile::Location;
use super::super::BuildError;
use crate::container::ContainerError;
use crate::image::StoreError;
use std::path::PathBuf;

/// A build that could not finish; nothing was tagged.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Build(Box<BuildError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{at}: base image `{image}` is not a valid reference: {source}")]
    BadImage {
        at: Location,
        image: String,
        source: Box<crate::image::reference::ReferenceError>,
    },
    #[error(
        "{at}: base image `{image}` is not in the image store and could not be pulled: \
         {source}{}",
        crate::image::bootstrap::hint_line(image)
    )]
    BaseImage {
        at: Location,
        image: String,
        source: Box<crate::image::registry::PullError>,
    },
    #[error("{at}: `{command}` failed with exit code {code}{}", tail_text(output))]
    RunFailed {
        at: Location,
        command: String,
        code: i32,
        /// The last lines of the step's output.
        output: Vec<String>,
    },
    #[error("{at}: cannot give the step its build network: {source}")]
    Network {
        at: Location,
        source: Box<crate::network::NetworkError>,
    },
    #[error("{at}: cannot run the step in a container: {source}")]
    Container {
        at: Location,
        source: Box<ContainerError>,
    },
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{at}: {what} is not supported by the bundled builder yet")]
    Unsupported { at: Location, what: String },
    #[error("{at}: --chown={spec}: {reason}")]
    Chown {
        at: Location,
        spec: String,
        reason: String,
    },
    #[error("{at}: --chmod={spec} is not an octal mode such as 755")]
    Chmod { at: Location, spec: String },
    #[error("{at}: COPY --from={from}: path `{path}` does not exist in that stage")]
    FromNotFound {
        at: Location,
        from: String,
        path: String,
    },
    #[error(
        "{at}: an ONBUILD trigger of the base copies --from={from}, a stage that \
         cannot be built first (it is unnamed, or it depends on the stage being built)"
    )]
    StageNotBuilt { at: Location, from: String },
    #[error("{at}: COPY cannot fetch `{url}`; use ADD for URLs and git repositories")]
    CopyUrl { at: Location, url: String },
    #[error("{at}: ADD cannot download `{url}`: {reason}")]
    Download {
        at: Location,
        url: String,
        reason: String,
    },
    #[error(
        "{at}: ADD `{url}`: the download's digest is {actual}, but --checksum expects {expected}"
    )]
    ChecksumMismatch {
        at: Location,
        url: String,
        expected: crate::image::Digest,
        actual: crate::image::Digest,
    },
    #[error("{at}: ADD --checksum=`{value}` is not a digest such as sha256:<64 hex digits> (for URLs) or a commit id (for git repositories)")]
    BadChecksum { at: Location, value: String },
    #[error("{at}: ADD --checksum needs http(s) URL sources or git repository sources only")]
    ChecksumNotUrl { at: Location },
    #[error("{at}: ADD from git repository `{url}`: {reason}")]
    Git {
        at: Location,
        url: String,
        reason: String,
    },
    #[error(
        "{at}: ADD from git repository `{url}`: subdirectory `{subdir}` is not in the checkout"
    )]
    GitSubdir {
        at: Location,
        url: String,
        subdir: String,
    },
    #[error("{at}: RUN --mount=type=secret needs an `id` or a `target` (got `{spec}`)")]
    BadSecretMount { at: Location, spec: String },
    #[error(
        "{at}: the step requires build secret `{id}`, which the build was not given (given: {}); \
         declare it under the service's `build.secrets` and the top-level `secrets:`",
        if known.is_empty() { "none".to_string() } else { known.join(", ") }
    )]
    MissingSecret {
        at: Location,
        id: String,
        known: Vec<String>,
    },
    #[error("{at}: cannot read build secret `{id}` from `{}`: {source}", path.display())]
    ReadSecret {
        at: Location,
        id: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{at}: COPY with several sources needs a destination directory ending in `/` (got `{dest}`)")]
    DestNotDir { at: Location, dest: String },
}

fn tail_text(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut s = String::from("; its last output:\n");
    for l in lines {
        s.push_str("  ");
        s.push_str(l.trim_end_matches('\n'));
        s.push('\n');
    }
    s.trim_end().to_string()
}

/// An io error with what was being done to which path.
pub(super) fn io(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> ExecError {
    let path = path.to_path_buf();
    move |source| ExecError::Io {
        action,
        path,
        source,
    }
}

impl From<BuildError> for ExecError {
    fn from(e: BuildError) -> ExecError {
        ExecError::Build(Box::new(e))
    }
}
