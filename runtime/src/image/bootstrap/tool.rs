//! The two tools that build a Debian or Ubuntu tree from a mirror, and
//! their command lines. mmdebstrap is preferred: it writes the tree as a
//! tarball to standard output and removes its own temporary tree, so
//! nothing is left behind. debootstrap needs a directory, which is
//! archived with tar(1) and removed afterwards.

use super::child::{self, Ctx};
use super::error::BootstrapError;
use super::sources::AptSource;
use super::target::Target;
use super::tweaks::Hooks;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A bootstrap tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Mmdebstrap,
    Debootstrap,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Mmdebstrap => "mmdebstrap",
            Tool::Debootstrap => "debootstrap",
        }
    }

    /// `wanted`, or the first installed of mmdebstrap and debootstrap.
    pub fn find(wanted: Option<Tool>) -> Result<(Tool, PathBuf), BootstrapError> {
        match wanted {
            Some(tool) => which(tool.name())
                .map(|p| (tool, p))
                .ok_or(BootstrapError::ToolMissing { tool: tool.name() }),
            None => [Tool::Mmdebstrap, Tool::Debootstrap]
                .into_iter()
                .find_map(|t| which(t.name()).map(|p| (t, p)))
                .ok_or(BootstrapError::NoTool),
        }
    }
}

/// `program` on `$PATH`, or in the sbin directories a non-root `$PATH`
/// often lacks (debootstrap lives in /usr/sbin).
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// mmdebstrap's hook that sets up merged /usr with directory symlinks
/// when the suite has the `usr-is-merged` package, as debootstrap and
/// Docker Hub's images do; without it, bookworm pulls in `usrmerge` and
/// Perl to convert the tree.
const MERGED_USR_HOOK: &str = "/usr/share/mmdebstrap/hooks/maybe-merged-usr";

/// A shell word for a hook command line.
fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// mmdebstrap's arguments: a minbase tree of `target` from `sources`
/// (the first is the release), our hooks, the tarball to stdout.
pub fn mmdebstrap_args(
    target: &Target,
    sources: &[AptSource],
    hooks: &Hooks,
    merged_usr_hook: Option<&Path>,
) -> Vec<OsString> {
    // `--skip=cleanup/apt`: mmdebstrap's own cleanup runs after the last
    // hook and leaves apt's binary caches (~70 MB); the customize hook
    // removes lists, caches and downloaded packages instead.
    // `--skip=chroot/policy-rc.d`: mmdebstrap would replace ours while it
    // installs and delete it at the end; the image keeps it, as Docker
    // Hub's do.
    let mut args: Vec<OsString> = vec![
        "--variant=minbase".into(),
        "--format=tar".into(),
        "--skip=cleanup/apt".into(),
        "--skip=chroot/policy-rc.d".into(),
    ];
    if let Some(dir) = merged_usr_hook {
        args.push(format!("--hook-dir={}", dir.display()).into());
    }
    args.push(format!("--setup-hook=sh {} \"$1\"", quote(&hooks.setup())).into());
    args.push(format!("--customize-hook=sh {} \"$1\"", quote(&hooks.customize())).into());
    args.push(target.suite.clone().into());
    args.push("-".into());
    args.extend(sources.iter().map(|s| OsString::from(s.to_string())));
    args
}

/// Run mmdebstrap and hand its tarball to `consume`.
pub fn mmdebstrap<T>(
    ctx: &Ctx<'_>,
    program: &Path,
    target: &Target,
    sources: &[AptSource],
    hooks: &Hooks,
    consume: impl FnOnce(&mut dyn Read) -> Result<T, BootstrapError>,
) -> Result<T, BootstrapError> {
    let hook = Path::new(MERGED_USR_HOOK);
    let mut cmd = Command::new(program);
    cmd.args(mmdebstrap_args(
        target,
        sources,
        hooks,
        hook.is_dir().then_some(hook),
    ));
    child::run_piped(ctx, cmd, consume)
}

/// debootstrap's arguments for a minbase tree in `dir`.
pub fn debootstrap_args(target: &Target, release: &AptSource, dir: &Path) -> Vec<OsString> {
    vec![
        "--variant=minbase".into(),
        format!("--components={}", release.components.join(",")).into(),
        format!("--keyring={}", release.signed_by.display()).into(),
        target.suite.clone().into(),
        dir.into(),
        release.uri.clone().into(),
    ]
}

/// Run debootstrap into a temporary directory, apply the hooks, write
/// every source into the tree's sources.list, and hand a tarball of the
/// tree (tar(1), numeric owners, extended attributes) to `consume`. The
/// directory is removed in every case.
pub fn debootstrap<T>(
    ctx: &Ctx<'_>,
    program: &Path,
    target: &Target,
    sources: &[AptSource],
    hooks: &Hooks,
    consume: impl FnOnce(&mut dyn Read) -> Result<T, BootstrapError>,
) -> Result<T, BootstrapError> {
    let script = Path::new("/usr/share/debootstrap/scripts").join(&target.suite);
    if !script.exists() {
        return Err(BootstrapError::NoDebootstrapScript {
            suite: target.suite.clone(),
            path: script,
        });
    }
    let tree = tempfile::Builder::new()
        .prefix("compose-debootstrap-")
        .tempdir()
        .map_err(|source| BootstrapError::Io {
            action: "create a temporary directory in",
            path: std::env::temp_dir(),
            source,
        })?;
    let root = tree.path();
    let mut cmd = Command::new(program);
    cmd.args(debootstrap_args(target, &sources[0], root));
    child::run_logged(ctx, cmd)?;
    for script in [hooks.setup(), hooks.customize()] {
        let mut sh = Command::new("sh");
        sh.arg(script).arg(root);
        child::run_logged(ctx, sh)?;
    }
    finish_tree(root, sources)?;
    let mut tar = Command::new("tar");
    tar.args(["--numeric-owner", "--xattrs", "--xattrs-include=*", "-C"])
        .arg(root)
        .args(["-cf", "-", "."]);
    child::run_piped(ctx, tar, consume)
}

/// What debootstrap leaves that an image must not carry: the host's
/// resolver configuration and hostname (the runtime provides both), and a
/// sources.list naming only the release.
fn finish_tree(root: &Path, sources: &[AptSource]) -> Result<(), BootstrapError> {
    for host_file in ["etc/resolv.conf", "etc/hostname"] {
        let path = root.join(host_file);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(BootstrapError::Io {
                    action: "remove",
                    path,
                    source: e,
                })
            }
            _ => {}
        }
    }
    let list: String = sources.iter().map(|s| format!("{s}\n")).collect();
    let path = root.join("etc/apt/sources.list");
    std::fs::write(&path, list).map_err(|source| BootstrapError::Io {
        action: "write",
        path,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::bootstrap::target::Flavour;
    use crate::image::reference::Reference;

    #[test]
    fn mmdebstrap_writes_a_minbase_tarball_to_stdout_from_every_source() {
        let target = Target::of(&Reference::parse("debian:bookworm-slim").unwrap()).unwrap();
        assert_eq!(target.flavour, Flavour::Slim);
        let hooks = Hooks::prepare(target.flavour).unwrap();
        let sources = vec![AptSource {
            uri: "http://deb.debian.org/debian".into(),
            suite: "bookworm".into(),
            components: vec!["main".into()],
            signed_by: "/k.gpg".into(),
        }];
        let args: Vec<String> = mmdebstrap_args(&target, &sources, &hooks, None)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(&args[..2], ["--variant=minbase", "--format=tar"]);
        assert!(args[4].starts_with("--setup-hook=sh '") && args[4].ends_with("setup.sh' \"$1\""));
        assert_eq!(
            &args[6..],
            [
                "bookworm",
                "-",
                "deb [signed-by=/k.gpg] http://deb.debian.org/debian bookworm main"
            ]
        );
        let d = debootstrap_args(&target, &sources[0], Path::new("/t"));
        assert_eq!(
            d,
            [
                "--variant=minbase",
                "--components=main",
                "--keyring=/k.gpg",
                "bookworm",
                "/t",
                "http://deb.debian.org/debian"
            ]
            .map(OsString::from)
        );
    }
}
