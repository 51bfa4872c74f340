//! The host's apt sources (`/etc/apt/sources.list`, `sources.list.d/*.list`
//! one-line entries and `*.sources` deb822 stanzas, see sources.list(5)),
//! and the sources an image is bootstrapped from: the host's entries for
//! the same distribution with the requested suite put in place of the
//! host's, or one `--mirror`.

use super::error::BootstrapError;
use super::target::{Distro, Target};
use std::path::{Path, PathBuf};

/// One `deb` entry of the host (a deb822 stanza may list several URIs and
/// suites; it becomes one entry per URI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub uri: String,
    pub suites: Vec<String>,
    pub components: Vec<String>,
    pub signed_by: Option<PathBuf>,
    /// The file it came from, for errors.
    pub file: PathBuf,
}

/// One line of the image's sources, as apt and mmdebstrap read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSource {
    pub uri: String,
    pub suite: String,
    pub components: Vec<String>,
    /// The keyring that verifies it (an absolute path on the host; the
    /// distribution's keyring package installs the same path in the image).
    pub signed_by: PathBuf,
}

impl std::fmt::Display for AptSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deb [signed-by={}] {} {} {}",
            self.signed_by.display(),
            self.uri,
            self.suite,
            self.components.join(" ")
        )
    }
}

/// Every `deb` entry of the apt configuration under `etc_apt`
/// (`/etc/apt`), in apt's order: `sources.list`, then `sources.list.d` by
/// name. Files that are absent are skipped; `deb-src` and disabled
/// stanzas are not sources of binary packages.
pub fn read_host(etc_apt: &Path) -> Result<(Vec<HostEntry>, Vec<PathBuf>), BootstrapError> {
    let mut files = vec![etc_apt.join("sources.list")];
    let dir = etc_apt.join("sources.list.d");
    if let Ok(read) = std::fs::read_dir(&dir) {
        let mut names: Vec<PathBuf> = read.filter_map(|e| Some(e.ok()?.path())).collect();
        names.sort();
        files.extend(names.into_iter().filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("list" | "sources")
            )
        }));
    }
    let mut entries = Vec::new();
    let mut read = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(BootstrapError::Io {
                    action: "read",
                    path: file,
                    source,
                })
            }
        };
        if file.extension().and_then(|e| e.to_str()) == Some("sources") {
            entries.extend(parse_deb822(&text, &file));
        } else {
            entries.extend(parse_one_line(&text, &file));
        }
        read.push(file);
    }
    Ok((entries, read))
}

/// `deb [opt=value ...] uri suite component...` lines.
pub fn parse_one_line(text: &str, file: &Path) -> Vec<HostEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some(rest) = line.strip_prefix("deb ") else {
            continue;
        };
        let mut rest = rest.trim_start();
        let mut signed_by = None;
        if let Some(opts) = rest.strip_prefix('[') {
            let Some((opts, after)) = opts.split_once(']') else {
                continue;
            };
            signed_by = opts
                .split_whitespace()
                .find_map(|o| o.strip_prefix("signed-by="))
                .map(PathBuf::from);
            rest = after;
        }
        let mut words = rest.split_whitespace();
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
            continue;
        };
        out.push(HostEntry {
            uri: uri.to_string(),
            suites: vec![suite.to_string()],
            components: words.map(str::to_string).collect(),
            signed_by,
            file: file.to_path_buf(),
        });
    }
    out
}

/// deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Components:`,
/// `Signed-By:`, `Enabled:`), separated by blank lines. A `Signed-By`
/// holding an inline key block is not a path and is ignored.
pub fn parse_deb822(text: &str, file: &Path) -> Vec<HostEntry> {
    let mut out = Vec::new();
    for stanza in stanzas(text) {
        let field = |name: &str| -> Vec<String> {
            stanza
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default()
        };
        let enabled = field("Enabled");
        if !field("Types").iter().any(|t| t == "deb") || enabled.iter().any(|e| e == "no") {
            continue;
        }
        let signed_by = match field("Signed-By").as_slice() {
            [path] if path.starts_with('/') => Some(PathBuf::from(path)),
            _ => None,
        };
        for uri in field("URIs") {
            out.push(HostEntry {
                uri,
                suites: field("Suites"),
                components: field("Components"),
                signed_by: signed_by.clone(),
                file: file.to_path_buf(),
            });
        }
    }
    out
}

/// The stanzas of a deb822 file as (field, value) pairs; continuation
/// lines (leading space) extend the previous value, `#` lines are comments.
fn stanzas(text: &str) -> Vec<Vec<(String, String)>> {
    let mut all = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                all.push(std::mem::take(&mut current));
            }
        } else if line.starts_with('#') {
            continue;
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            current.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if !current.is_empty() {
        all.push(current);
    }
    all
}

/// The pockets a stable release's image also takes from the host's
/// sources: point-release updates and security fixes, as Docker Hub's
/// images list them. Backports and proposed updates stay out.
const POCKETS: [&str; 3] = ["", "-updates", "-security"];

/// A suite split into its release and pocket: `bookworm-security` →
/// (`bookworm`, `-security`).
fn split_pocket(suite: &str) -> (&str, &str) {
    match suite.find('-') {
        Some(i) => suite.split_at(i),
        None => (suite, ""),
    }
}

/// The sources of the image: `mirror` alone when given, else the host's
/// entries of the target's distribution with the suite replaced.
/// `exists` tells whether a keyring file is there.
pub fn plan_sources(
    target: &Target,
    host: &[HostEntry],
    host_files: &[PathBuf],
    mirror: Option<&str>,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<Vec<AptSource>, BootstrapError> {
    let (default_keyring, package) = target.distro.keyring();
    let keyring = |given: Option<&PathBuf>| -> Result<PathBuf, BootstrapError> {
        let path = given
            .cloned()
            .unwrap_or_else(|| PathBuf::from(default_keyring));
        if exists(&path) {
            Ok(path)
        } else {
            Err(BootstrapError::KeyringMissing {
                distro: target.distro.name(),
                path,
                package,
            })
        }
    };
    if let Some(uri) = mirror {
        check_mirror(uri)?;
        return Ok(vec![AptSource {
            uri: uri.trim_end_matches('/').to_string(),
            suite: target.suite.clone(),
            components: target
                .distro
                .default_components()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            signed_by: keyring(None)?,
        }]);
    }
    let mut out: Vec<AptSource> = Vec::new();
    for entry in host {
        for suite in &entry.suites {
            let (release, pocket) = split_pocket(suite);
            if Distro::of_suite(release) != Some(target.distro)
                || !POCKETS.contains(&pocket)
                || (target.is_rolling() && !pocket.is_empty())
            {
                continue;
            }
            let source = AptSource {
                uri: entry.uri.trim_end_matches('/').to_string(),
                suite: format!("{}{pocket}", target.suite),
                components: entry.components.clone(),
                signed_by: keyring(entry.signed_by.as_ref())?,
            };
            if !out.contains(&source) {
                out.push(source);
            }
        }
    }
    // The release itself must come from somewhere: pockets alone are not
    // a distribution.
    if !out.iter().any(|s| s.suite == target.suite) {
        return Err(BootstrapError::NoMirror {
            distro: target.distro.name(),
            files: host_files.to_vec(),
            example: target.distro.example_mirror(),
        });
    }
    // The release first: it is the image's mirror, and what debootstrap uses.
    out.sort_by_key(|s| s.suite != target.suite);
    Ok(out)
}

/// apt's transports that need nothing installed beyond apt itself.
fn check_mirror(uri: &str) -> Result<(), BootstrapError> {
    if ["http://", "https://", "file:/"]
        .iter()
        .any(|scheme| uri.starts_with(scheme))
    {
        Ok(())
    } else {
        Err(BootstrapError::BadMirror {
            mirror: uri.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::reference::Reference;

    const HOST_DEB822: &str = "Types: deb\n# a snapshot\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n";

    fn target(s: &str) -> Target {
        Target::of(&Reference::parse(s).unwrap()).unwrap()
    }

    fn host() -> Vec<HostEntry> {
        parse_deb822(
            HOST_DEB822,
            Path::new("/etc/apt/sources.list.d/debian.sources"),
        )
    }

    fn lines(sources: &[AptSource]) -> Vec<String> {
        sources.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn deb822_and_one_line_entries_parse() {
        let h = host();
        assert_eq!(h.len(), 2, "deb-src is not a binary source: {h:?}");
        assert_eq!(h[0].suites, ["bookworm", "bookworm-updates"]);
        let one = parse_one_line(
            "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m/ubuntu jammy main universe # x\ndeb-src http://m/ubuntu jammy main\ndeb http://m/ubuntu jammy-security main\n",
            Path::new("/etc/apt/sources.list"),
        );
        assert_eq!(one.len(), 2);
        assert_eq!(one[0].signed_by.as_deref(), Some(Path::new("/k.gpg")));
        assert_eq!(one[0].components, ["main", "universe"]);
        assert_eq!(one[1].suites, ["jammy-security"]);
        let disabled = parse_deb822(
            "Enabled: no\nTypes: deb\nURIs: http://x\nSuites: a\n",
            Path::new("f"),
        );
        assert!(disabled.is_empty());
    }

    #[test]
    fn the_hosts_pockets_follow_the_requested_suite() {
        let t = target("debian:trixie-slim");
        let s = plan_sources(&t, &host(), &[], None, &|_| true).unwrap();
        assert_eq!(
            lines(&s),
            [
                "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main",
                "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-updates main",
                "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security trixie-security main",
            ]
        );
        let sid = plan_sources(&target("debian:sid"), &host(), &[], None, &|_| true).unwrap();
        assert_eq!(sid.len(), 1, "a rolling suite has no pockets: {sid:?}");
    }

    #[test]
    fn an_ubuntu_hosts_one_line_sources_serve_another_ubuntu_release() {
        let host = parse_one_line(
            "deb http://archive.ubuntu.com/ubuntu/ jammy main restricted\n\
             deb http://archive.ubuntu.com/ubuntu/ jammy-updates main restricted\n\
             deb http://archive.ubuntu.com/ubuntu/ jammy-backports main\n\
             deb http://security.ubuntu.com/ubuntu/ jammy-security main restricted\n",
            Path::new("/etc/apt/sources.list"),
        );
        let s = plan_sources(&target("ubuntu:24.04"), &host, &[], None, &|_| true).unwrap();
        let k = "[signed-by=/usr/share/keyrings/ubuntu-archive-keyring.gpg]";
        assert_eq!(
            lines(&s),
            [
                format!("deb {k} http://archive.ubuntu.com/ubuntu noble main restricted"),
                format!("deb {k} http://archive.ubuntu.com/ubuntu noble-updates main restricted"),
                format!("deb {k} http://security.ubuntu.com/ubuntu noble-security main restricted"),
            ]
        );
        // The Debian image cannot come from an Ubuntu host's sources.
        assert!(plan_sources(&target("debian:12"), &host, &[], None, &|_| true).is_err());
    }

    #[test]
    fn a_mirror_overrides_the_host() {
        let s = plan_sources(
            &target("ubuntu:22.04"),
            &host(),
            &[],
            Some("http://archive.ubuntu.com/ubuntu/"),
            &|_| true,
        )
        .unwrap();
        assert_eq!(
            lines(&s),
            ["deb [signed-by=/usr/share/keyrings/ubuntu-archive-keyring.gpg] http://archive.ubuntu.com/ubuntu jammy main restricted universe multiverse"]
        );
        let bad = plan_sources(
            &target("debian"),
            &host(),
            &[],
            Some("ftp.debian.org"),
            &|_| true,
        );
        assert!(bad.unwrap_err().to_string().contains("ftp.debian.org"));
    }

    #[test]
    fn a_missing_mirror_or_keyring_is_named() {
        let files = [PathBuf::from("/etc/apt/sources.list.d/debian.sources")];
        let e = plan_sources(&target("ubuntu:jammy"), &host(), &files, None, &|_| true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no Ubuntu mirror")
                && e.contains("debian.sources")
                && e.contains("--mirror http://archive.ubuntu.com/ubuntu"),
            "{e}"
        );
        let e = plan_sources(
            &target("ubuntu:jammy"),
            &host(),
            &files,
            Some("http://archive.ubuntu.com/ubuntu"),
            &|p| !p.ends_with("ubuntu-archive-keyring.gpg"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("/usr/share/keyrings/ubuntu-archive-keyring.gpg")
                && e.contains("apt-get install ubuntu-keyring"),
            "{e}"
        );
    }
}
