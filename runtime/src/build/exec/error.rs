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
