//! What turns a bare bootstrapped tree into a container base image, the
//! way Docker Hub's Debian images are made (debuerreotype's minimizing
//! config and slimify step, rewritten here from their documented effect):
//! no services started by package scripts, apt that cleans up after
//! itself, and for `-slim` no documentation, man pages or translations.

use super::error::BootstrapError;
use super::target::Flavour;
use std::path::Path;

/// When a file must be in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before any package is installed: dpkg's own configuration, so
    /// excluded paths are never unpacked, and policy-rc.d, so no package
    /// script starts a service.
    Setup,
    /// After the packages: configuration that would act on the host if
    /// apt read it while bootstrapping (its post-invoke hooks run plain
    /// shell commands).
    Customize,
}

/// One file the image gets: (stage, path in the image, content, mode).
pub type File = (Stage, &'static str, &'static str, u32);

/// dpkg(1) `path-exclude`/`path-include`: copyright files and the locale
/// alias table stay, as in Docker's slim images.
const DPKG_SLIM: &str = "\
# compose image bootstrap: a -slim image leaves documentation out.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
";

/// invoke-rc.d consults this before starting a service; 101 means "not
/// allowed", so `apt-get install nginx` in a RUN step does not try to
/// start nginx in the build container (see invoke-rc.d(8)).
const POLICY_RC_D: &str =
    "#!/bin/sh\n# compose image bootstrap: no services start in containers.\nexit 101\n";

/// Downloaded packages and the binary caches are deleted after each apt
/// run, so a `RUN apt-get install` layer does not carry them.
const APT_CLEAN: &str = "\
// compose image bootstrap: keep apt's caches out of image layers.
DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };
APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };
Dir::Cache::pkgcache \"\";
Dir::Cache::srcpkgcache \"\";
";

/// No translated package descriptions: they are most of an `apt-get
/// update` download and nobody reads them in a container.
const APT_NO_LANGUAGES: &str = "Acquire::Languages \"none\";\n";

/// `apt-get autoremove` may remove what is only suggested.
const APT_AUTOREMOVE: &str = "Apt::AutoRemove::SuggestsImportant \"false\";\n";

/// The files of a `flavour` image.
pub fn files(flavour: Flavour) -> Vec<File> {
    let mut out: Vec<File> = vec![
        (Stage::Setup, "usr/sbin/policy-rc.d", POLICY_RC_D, 0o755),
        (
            Stage::Customize,
            "etc/apt/apt.conf.d/docker-clean",
            APT_CLEAN,
            0o644,
        ),
        (
            Stage::Customize,
            "etc/apt/apt.conf.d/docker-no-languages",
            APT_NO_LANGUAGES,
            0o644,
        ),
        (
            Stage::Customize,
            "etc/apt/apt.conf.d/docker-autoremove-suggests",
            APT_AUTOREMOVE,
            0o644,
        ),
    ];
    if flavour == Flavour::Slim {
        out.push((
            Stage::Setup,
            "etc/dpkg/dpkg.cfg.d/docker-slim",
            DPKG_SLIM,
            0o644,
        ));
    }
    out
}

/// The hook scripts of one bootstrap, in a temporary directory: each is
/// run as `sh SCRIPT ROOT`, by mmdebstrap as a hook or after debootstrap.
pub struct Hooks {
    dir: tempfile::TempDir,
}

impl Hooks {
    /// Write the files of `flavour` and the two scripts that install them.
    pub fn prepare(flavour: Flavour) -> Result<Hooks, BootstrapError> {
        let dir = tempfile::Builder::new()
            .prefix("compose-bootstrap-")
            .tempdir()
            .map_err(|source| BootstrapError::Io {
                action: "create a temporary directory in",
                path: std::env::temp_dir(),
                source,
            })?;
        let hooks = Hooks { dir };
        let mut setup = String::from("set -eu\nroot=\"$1\"\n");
        let mut customize = setup.clone();
        for (n, (stage, path, content, mode)) in files(flavour).into_iter().enumerate() {
            let source = hooks.dir.path().join(format!("file{n}"));
            hooks.write(&source, content)?;
            // install(1) creates missing parents 0755 and leaves existing
            // directories alone.
            let line = format!(
                "install -D -m {mode:o} '{}' \"$root/{path}\"\n",
                source.display()
            );
            match stage {
                Stage::Setup => setup.push_str(&line),
                Stage::Customize => customize.push_str(&line),
            }
        }
        customize.push_str(&cleanup_script(flavour));
        hooks.write(&hooks.setup(), &setup)?;
        hooks.write(&hooks.customize(), &customize)?;
        Ok(hooks)
    }

    /// The script to run before packages are installed.
    pub fn setup(&self) -> std::path::PathBuf {
        self.dir.path().join("setup.sh")
    }

    /// The script to run after packages are installed.
    pub fn customize(&self) -> std::path::PathBuf {
        self.dir.path().join("customize.sh")
    }

    fn write(&self, path: &Path, content: &str) -> Result<(), BootstrapError> {
        std::fs::write(path, content).map_err(|source| BootstrapError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        })
    }
}

/// The removal part of the customize script (`$root` is the tree).
/// dpkg's excludes do not cover what was unpacked before they applied
/// (the essential packages are extracted by the bootstrap tool itself),
/// so the same paths are removed here. `find` never follows a symlink
/// (its default `-P`), even as a starting point, so nothing outside the
/// tree can be reached through one.
fn cleanup_script(flavour: Flavour) -> String {
    let mut s = String::new();
    if flavour == Flavour::Slim {
        s.push_str(
            "\
find \"$root/usr/share/doc\" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
find \"$root/usr/share/doc\" -mindepth 1 -type d -empty -delete 2>/dev/null || true
for d in man groff info lintian linda; do
  find \"$root/usr/share/$d\" -mindepth 1 -delete 2>/dev/null || true
done
find \"$root/usr/share/locale\" -mindepth 1 ! -name locale.alias -delete 2>/dev/null || true
",
        );
    }
    // Package lists are downloaded again by the first `apt-get update`,
    // apt rebuilds its binary caches, debootstrap leaves the packages it
    // downloaded; debconf and dpkg keep `-old` backups nobody needs.
    s.push_str(
        "\
find \"$root/var/lib/apt/lists\" -mindepth 1 ! -name lock ! -name partial -delete 2>/dev/null || true
find \"$root/var/cache/apt\" -maxdepth 1 -name '*.bin' -delete 2>/dev/null || true
find \"$root/var/cache/apt/archives\" -name '*.deb' -delete 2>/dev/null || true
find \"$root/var/cache/debconf\" \"$root/var/lib/dpkg\" -maxdepth 1 -name '*-old' -delete 2>/dev/null || true
",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn slim_adds_dpkg_excludes_before_packages_are_installed() {
        let slim = files(Flavour::Slim);
        let dpkg = slim
            .iter()
            .find(|f| f.1.starts_with("etc/dpkg/"))
            .expect("dpkg config");
        assert_eq!(dpkg.0, Stage::Setup);
        assert!(dpkg.2.contains("path-exclude /usr/share/man/*"));
        assert!(files(Flavour::Full)
            .iter()
            .all(|f| !f.1.starts_with("etc/dpkg/")));
        assert!(cleanup_script(Flavour::Slim).contains("usr/share/locale"));
        assert!(!cleanup_script(Flavour::Full).contains("usr/share/locale"));
    }

    #[test]
    fn hook_scripts_install_each_stage_and_clean_up() {
        let hooks = Hooks::prepare(Flavour::Slim).unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("usr/share/man/man1")).unwrap();
        std::fs::write(root.path().join("usr/share/man/man1/ls.1.gz"), "x").unwrap();
        std::fs::create_dir_all(root.path().join("usr/share/doc/bash")).unwrap();
        std::fs::write(root.path().join("usr/share/doc/bash/copyright"), "c").unwrap();
        std::fs::write(root.path().join("usr/share/doc/bash/README"), "r").unwrap();
        let sh = |script: std::path::PathBuf| {
            let ok = std::process::Command::new("sh")
                .arg(script)
                .arg(root.path())
                .status()
                .unwrap();
            assert!(ok.success());
        };
        sh(hooks.setup());
        assert!(root
            .path()
            .join("etc/dpkg/dpkg.cfg.d/docker-slim")
            .is_file());
        assert!(!root.path().join("etc/apt/apt.conf.d/docker-clean").exists());
        sh(hooks.customize());
        assert!(root
            .path()
            .join("etc/apt/apt.conf.d/docker-clean")
            .is_file());
        let policy = root.path().join("usr/sbin/policy-rc.d");
        let mode = std::fs::metadata(&policy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        assert!(!root.path().join("usr/share/man/man1").exists());
        assert!(root.path().join("usr/share/doc/bash/copyright").is_file());
        assert!(!root.path().join("usr/share/doc/bash/README").exists());
    }
}
