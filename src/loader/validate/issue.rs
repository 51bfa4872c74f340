//! The semantic problems [`super::check`] finds, each with what to do.

use crate::graph::Relation;
use crate::loader::node::Location;
use std::fmt;

/// One problem at one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub location: Location,
    pub kind: IssueKind,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.kind)
    }
}

/// A top-level section a service refers into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Networks,
    Volumes,
    Secrets,
    Configs,
    Models,
}

impl Section {
    pub fn key(self) -> &'static str {
        match self {
            Section::Networks => "networks",
            Section::Volumes => "volumes",
            Section::Secrets => "secrets",
            Section::Configs => "configs",
            Section::Models => "models",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Section::Networks => "network",
            Section::Volumes => "volume",
            Section::Secrets => "secret",
            Section::Configs => "config",
            Section::Models => "model",
        }
    }
}

/// What is wrong with a published/target port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortProblem {
    NotANumber {
        text: String,
    },
    OutOfRange {
        port: i64,
    },
    Reversed {
        start: u32,
        end: u32,
    },
    /// A target range needs a published range of the same size.
    RangeSizes {
        published: String,
        target: String,
    },
}

impl fmt::Display for PortProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortProblem::NotANumber { text } => {
                write!(f, "`{text}` is not a port number or range (like `8080` or `8000-8010`)")
            }
            PortProblem::OutOfRange { port } => {
                write!(f, "port {port} is out of range; ports go from 1 to 65535")
            }
            PortProblem::Reversed { start, end } => write!(
                f,
                "the range {start}-{end} ends before it starts; write it as {end}-{start}"
            ),
            PortProblem::RangeSizes { published, target } => write!(
                f,
                "the published range `{published}` and the container range `{target}` differ in size; give ranges of the same length"
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum IssueKind {
    UndefinedResource {
        service: String,
        section: Section,
        name: String,
        /// `build.secrets` rather than the service's own `secrets`.
        build: bool,
    },
    UndefinedService {
        service: String,
        target: String,
        relation: Relation,
    },
    SelfReference {
        service: String,
        relation: Relation,
    },
    Cycle {
        cycle: Vec<String>,
    },
    DuplicateContainerName {
        name: String,
        first_service: String,
        first: Location,
    },
    ContainerNameWithReplicas {
        service: String,
        attribute: &'static str,
        replicas: i64,
    },
    DistinctReplicas {
        scale: i64,
        replicas: i64,
    },
    NegativeReplicas {
        value: i64,
    },
    NetworkModeWithNetworks {
        service: String,
    },
    NoImageOrBuild {
        service: String,
    },
    DockerfileConflict,
    AdditionalContext {
        context: String,
        target: String,
        buildable_target_exists: bool,
    },
    PlatformNotBuilt {
        platform: String,
    },
    HealthcheckTest {
        first: String,
    },
    Port(PortProblem),
    InvalidHostIp {
        ip: String,
    },
    DuplicateMountTarget {
        target: String,
        first: String,
    },
    FileObjectExclusive {
        keys: &'static [&'static str],
    },
    FileObjectMissing {
        kind: &'static str,
        keys: &'static [&'static str],
    },
    ExternalConflict {
        key: String,
    },
    DeviceCountAndIds,
    WatchTargetRequired {
        action: String,
    },
    BlankWatchPath,
}

impl fmt::Display for IssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use IssueKind as K;
        match self {
            K::UndefinedResource {
                service,
                section,
                name,
                build,
            } => {
                let what = if *build { "build secret" } else { section.singular() };
                write!(
                    f,
                    "service `{service}` refers to undefined {what} `{name}`; define it under top-level `{}:`",
                    section.key()
                )?;
                if *section == Section::Volumes {
                    write!(f, ", or write a path such as `./{name}` for a bind mount")?;
                }
                Ok(())
            }
            K::UndefinedService {
                service,
                target,
                relation,
            } => {
                write!(
                    f,
                    "service `{service}` refers to undefined service `{target}` in `{relation}`; define it under `services:`"
                )?;
                if *relation == Relation::DependsOn {
                    // compose-go tolerates `required: false` only for a
                    // service a profile disabled, not for an undefined one.
                    f.write_str(" (`required: false` only lets it be disabled by a profile)")?;
                }
                Ok(())
            }
            K::SelfReference { service, relation } => write!(
                f,
                "service `{service}` refers to itself in `{relation}`; a service cannot depend on itself"
            ),
            K::Cycle { cycle } => write!(
                f,
                "dependency cycle: {}; remove one of these dependencies",
                cycle.join(" -> ")
            ),
            K::DuplicateContainerName {
                name,
                first_service,
                first,
            } => write!(
                f,
                "container name `{name}` is already used by service `{first_service}` ({first}); container names must be unique"
            ),
            K::ContainerNameWithReplicas {
                service,
                attribute,
                replicas,
            } => write!(
                f,
                "service `{service}` sets `container_name` and `{attribute}: {replicas}`; a container name must be unique, so remove `container_name` or run a single replica"
            ),
            K::DistinctReplicas { scale, replicas } => write!(
                f,
                "`scale: {scale}` and `deploy.replicas: {replicas}` disagree; set only one of them"
            ),
            K::NegativeReplicas { value } => {
                write!(f, "must be greater than or equal to 0, found {value}")
            }
            K::NetworkModeWithNetworks { service } => write!(
                f,
                "service `{service}` sets both `network_mode` and `networks`; they are mutually exclusive, keep one"
            ),
            K::NoImageOrBuild { service } => write!(
                f,
                "service `{service}` has neither an image nor a build context; set `image:` or `build:`"
            ),
            K::DockerfileConflict => f.write_str(
                "`dockerfile` and `dockerfile_inline` are mutually exclusive; keep one",
            ),
            K::AdditionalContext {
                context,
                target,
                buildable_target_exists,
            } => {
                if *buildable_target_exists {
                    write!(f, "additional context `{context}` refers to service `{target}`, which has no `build:`; only buildable services can be used")
                } else {
                    write!(f, "additional context `{context}` refers to undefined service `{target}`; define it under `services:`")
                }
            }
            K::PlatformNotBuilt { platform } => write!(
                f,
                "`build.platforms` must include the service's `platform: {platform}`; add it to the list"
            ),
            K::HealthcheckTest { first } => write!(
                f,
                "a healthcheck test list must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", found `{first}`"
            ),
            K::Port(p) => write!(f, "{p}"),
            K::InvalidHostIp { ip } => {
                write!(f, "`{ip}` is not an IP address; use one like `127.0.0.1` or `::1`")
            }
            K::DuplicateMountTarget { target, first } => write!(
                f,
                "`{target}` is already mounted by {first}; each container path can be mounted once"
            ),
            K::FileObjectExclusive { keys } => {
                write!(f, "{} are mutually exclusive; keep one", keys.join(", "))
            }
            K::FileObjectMissing { kind, keys } => write!(
                f,
                "a {kind} must set one of {}, or `external: true`",
                keys.join(", ")
            ),
            K::ExternalConflict { key } => write!(
                f,
                "`external: true` cannot be combined with `{key}`; an external resource is managed outside Compose, keep only `name`"
            ),
            K::DeviceCountAndIds => {
                f.write_str("`count` and `device_ids` are mutually exclusive; keep one")
            }
            K::WatchTargetRequired { action } => write!(
                f,
                "a watch rule with `action: {action}` needs a `target`; only rebuild and restart work without one"
            ),
            K::BlankWatchPath => f.write_str("a watch `path` cannot be blank"),
        }
    }
}
