//! Which distribution and suite an image reference asks for: `debian:12`,
//! `debian:bookworm-slim`, `debian:stable`, `ubuntu:22.04`, `ubuntu:jammy`.
//! Pure: the tags of Docker Hub's official `debian` and `ubuntu` images
//! mapped onto the archive's suite names.

use super::error::BootstrapError;
use crate::image::reference::{Reference, DOCKER_HUB};

/// The distributions a base image can be bootstrapped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distro {
    Debian,
    Ubuntu,
}

impl Distro {
    pub fn name(self) -> &'static str {
        match self {
            Distro::Debian => "Debian",
            Distro::Ubuntu => "Ubuntu",
        }
    }

    /// The archive keyring its packages are signed with, and the Debian
    /// package that installs it.
    pub fn keyring(self) -> (&'static str, &'static str) {
        match self {
            Distro::Debian => (
                "/usr/share/keyrings/debian-archive-keyring.gpg",
                "debian-archive-keyring",
            ),
            Distro::Ubuntu => (
                "/usr/share/keyrings/ubuntu-archive-keyring.gpg",
                "ubuntu-keyring",
            ),
        }
    }

    /// The usual public mirror, named in errors as an example for `--mirror`.
    pub fn example_mirror(self) -> &'static str {
        match self {
            Distro::Debian => "http://deb.debian.org/debian",
            Distro::Ubuntu => "http://archive.ubuntu.com/ubuntu",
        }
    }

    /// The components an image gets when only `--mirror` is known (Docker
    /// Hub's images: Debian `main`, Ubuntu all four).
    pub fn default_components(self) -> &'static [&'static str] {
        match self {
            Distro::Debian => &["main"],
            Distro::Ubuntu => &["main", "restricted", "universe", "multiverse"],
        }
    }

    /// The distribution whose archive has `suite` (a codename or alias,
    /// without a pocket such as `-updates`).
    pub fn of_suite(suite: &str) -> Option<Distro> {
        if debian_suite(suite).is_some() {
            Some(Distro::Debian)
        } else if ubuntu_suite(suite).is_some() {
            Some(Distro::Ubuntu)
        } else {
            None
        }
    }
}

/// Docker's `debian:*-slim`: documentation, man pages and translations
/// left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Full,
    Slim,
}

/// What to bootstrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub distro: Distro,
    /// The archive's name for it (`bookworm`, `stable`, `jammy`).
    pub suite: String,
    pub flavour: Flavour,
}

impl Target {
    /// The target `reference` names. Only Docker Hub's official `debian`
    /// and `ubuntu` repositories qualify: other names say nothing about
    /// which archive to use.
    pub fn of(reference: &Reference) -> Result<Target, BootstrapError> {
        let not = |reason: &str| BootstrapError::NotBootstrappable {
            reference: reference.to_string(),
            reason: reason.to_string(),
        };
        if reference.digest.is_some() {
            return Err(not(
                "a digest names one registry image; bootstrap builds a new one, so give a tag",
            ));
        }
        let distro = match (reference.registry.as_str(), reference.repository.as_str()) {
            (DOCKER_HUB, "library/debian") => Distro::Debian,
            (DOCKER_HUB, "library/ubuntu") => Distro::Ubuntu,
            _ => {
                return Err(not(
                    "only `debian:…` and `ubuntu:…` images can be bootstrapped",
                ))
            }
        };
        let tag = reference.tag.as_deref().unwrap_or("latest");
        let (base, flavour) = match tag.strip_suffix("-slim") {
            Some(base) if distro == Distro::Debian => (base, Flavour::Slim),
            _ => (tag, Flavour::Full),
        };
        let suite = match distro {
            Distro::Debian => debian_suite(base),
            Distro::Ubuntu => ubuntu_suite(base),
        }
        .ok_or_else(|| BootstrapError::UnknownSuite {
            reference: reference.familiar_name() + ":" + tag,
            distro: distro.name(),
            examples: match distro {
                Distro::Debian => {
                    "a codename (bookworm, trixie), a version (12), stable, testing or \
                     unstable, optionally with -slim"
                }
                Distro::Ubuntu => "a codename (jammy, noble) or a version (22.04, 24.04)",
            },
        })?;
        Ok(Target {
            distro,
            suite: suite.to_string(),
            flavour,
        })
    }

    /// Whether the suite moves continuously, with no `-updates` or
    /// `-security` pockets to add.
    pub fn is_rolling(&self) -> bool {
        matches!(
            self.suite.as_str(),
            "unstable" | "sid" | "testing" | "experimental"
        )
    }
}

/// Debian releases by version, the codenames the archive knows.
const DEBIAN: [(&str, &str); 7] = [
    ("9", "stretch"),
    ("10", "buster"),
    ("11", "bullseye"),
    ("12", "bookworm"),
    ("13", "trixie"),
    ("14", "forky"),
    ("15", "duke"),
];

/// The archive's aliases, valid as suite names on every Debian mirror.
const DEBIAN_ALIASES: [&str; 6] = [
    "stable",
    "oldstable",
    "oldoldstable",
    "testing",
    "unstable",
    "sid",
];

/// Ubuntu releases by version.
const UBUNTU: [(&str, &str); 9] = [
    ("16.04", "xenial"),
    ("18.04", "bionic"),
    ("20.04", "focal"),
    ("22.04", "jammy"),
    ("23.10", "mantic"),
    ("24.04", "noble"),
    ("24.10", "oracular"),
    ("25.04", "plucky"),
    ("25.10", "questing"),
];

/// A Debian tag as a suite: `bookworm`, `12`, a point release `12.5` (the
/// archive only has the newest point release of a suite), an alias, or
/// `latest` (Docker Hub's `debian:latest` is the current stable release).
fn debian_suite(tag: &str) -> Option<&str> {
    if tag == "latest" {
        return Some("stable");
    }
    if let Some(alias) = DEBIAN_ALIASES.iter().find(|a| **a == tag) {
        return Some(alias);
    }
    let major = tag.split('.').next().unwrap_or(tag);
    DEBIAN
        .iter()
        .find(|(version, codename)| *codename == tag || *version == major)
        .map(|(_, codename)| *codename)
}

/// An Ubuntu tag as a suite: `jammy`, `22.04`, or `latest` (the newest LTS
/// release, as on Docker Hub).
fn ubuntu_suite(tag: &str) -> Option<&str> {
    if tag == "latest" {
        return Some("noble");
    }
    UBUNTU
        .iter()
        .find(|(version, codename)| *codename == tag || *version == tag)
        .map(|(_, codename)| *codename)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(s: &str) -> Result<Target, BootstrapError> {
        Target::of(&Reference::parse(s).unwrap())
    }

    #[test]
    fn debian_tags_map_to_suites_and_flavours() {
        for (tag, suite, flavour) in [
            ("debian:bookworm", "bookworm", Flavour::Full),
            ("debian:bookworm-slim", "bookworm", Flavour::Slim),
            ("debian:12", "bookworm", Flavour::Full),
            ("debian:12.5-slim", "bookworm", Flavour::Slim),
            ("debian:stable-slim", "stable", Flavour::Slim),
            ("debian", "stable", Flavour::Full),
            ("docker.io/library/debian:sid", "sid", Flavour::Full),
            ("debian:13", "trixie", Flavour::Full),
        ] {
            let t = target(tag).unwrap();
            assert_eq!(
                (t.distro, t.suite.as_str(), t.flavour),
                (Distro::Debian, suite, flavour),
                "{tag}"
            );
        }
        assert!(target("debian:sid").unwrap().is_rolling());
        assert!(!target("debian:bookworm").unwrap().is_rolling());
    }

    #[test]
    fn ubuntu_tags_map_to_codenames() {
        for (tag, suite) in [
            ("ubuntu:jammy", "jammy"),
            ("ubuntu:22.04", "jammy"),
            ("ubuntu:24.04", "noble"),
            ("ubuntu", "noble"),
        ] {
            let t = target(tag).unwrap();
            assert_eq!((t.distro, t.suite.as_str()), (Distro::Ubuntu, suite));
        }
    }

    #[test]
    fn other_images_and_unknown_tags_are_refused_with_the_reason() {
        let e = target("alpine:3.20").unwrap_err().to_string();
        assert!(e.contains("only `debian:…` and `ubuntu:…`"), "{e}");
        let e = target("localhost:5000/debian:bookworm")
            .unwrap_err()
            .to_string();
        assert!(e.contains("only `debian:…`"), "{e}");
        let e = target("debian:bookworm-20250520").unwrap_err().to_string();
        assert!(
            e.contains("debian:bookworm-20250520") && e.contains("codename"),
            "{e}"
        );
        let digest = format!("debian@sha256:{}", "a".repeat(64));
        assert!(target(&digest).unwrap_err().to_string().contains("digest"));
    }
}
