//! `compose build [SERVICE...]`: build the images of the services that
//! have a `build:` section with the bundled builder
//! (`compose_runtime::build::exec`), named `image:` or
//! `<project>-<service>` plus `build.tags`, as docker compose names them.
//! Progress is printed the way BuildKit's plain output shows it
//! (`#N [stage k/n] INSTRUCTION`, `#N CACHED`, the step's output).
//! `up` calls [`build_service`] for a missing image.

use super::session::Session;
use super::GlobalArgs;
use crate::model::{Project, ServiceConfig};
use compose_runtime::build::exec::{self, BuildNetwork, BuildRequest, BuildSecret, Builder, Event};
use compose_runtime::container::InitProgram;
use compose_runtime::image::{Image, ImageStore, Reference};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Do not use cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the base images
    #[arg(long)]
    pub pull: bool,
    /// Set build-time variables for services
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_arg: Vec<String>,
    /// Don't print anything to STDOUT
    #[arg(short, long)]
    pub quiet: bool,
    /// Services to build (default: all with a build section)
    pub services: Vec<String>,
}

/// Why a service's image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildCliError {
    #[error("service {service}: image name `{image}` is not a valid reference: {source}")]
    Reference {
        service: String,
        image: String,
        source: compose_runtime::image::reference::ReferenceError,
    },
    #[error("service {service}: cannot read the Dockerfile `{}`: {source}", path.display())]
    Dockerfile {
        service: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("service {service}: failed to build: {source}")]
    Build {
        service: String,
        source: Box<exec::ExecError>,
    },
    #[error("--build-arg `{0}`: expected KEY=VALUE (or KEY to take it from the environment)")]
    BuildArg(String),
    #[error(
        "service {service}: build secret `{secret}` is not declared in the top-level `secrets:`"
    )]
    UnknownSecret { service: String, secret: String },
    #[error("service {service}: build secret `{secret}` needs `file:` or `environment:` in the top-level `secrets:`")]
    SecretWithoutSource { service: String, secret: String },
    #[error("service {service} has no `build` section")]
    NotBuildable { service: String },
    #[error(transparent)]
    Store(#[from] compose_runtime::image::StoreError),
}

/// How one build runs.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub no_cache: bool,
    /// `--pull`: refresh base images from their registries.
    pub pull: bool,
    pub quiet: bool,
    /// `--build-arg`s, over the service's `build.args`.
    pub args: BTreeMap<String, String>,
}

pub fn run(global: &GlobalArgs, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let session = Session::load(global, &args.services)?;
    let mut opts = BuildOptions {
        no_cache: args.no_cache,
        pull: args.pull,
        quiet: args.quiet,
        args: BTreeMap::new(),
    };
    for kv in &args.build_arg {
        let (k, v) = match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => match std::env::var(kv) {
                Ok(v) => (kv.clone(), v),
                Err(_) => continue,
            },
        };
        if k.is_empty() {
            return Err(BuildCliError::BuildArg(kv.clone()).into());
        }
        opts.args.insert(k, v);
    }
    let mut services = Vec::new();
    for service in session.project.services.values() {
        let named = args.services.is_empty() || args.services.contains(&service.name);
        if named && service.build.is_none() && !args.services.is_empty() {
            return Err(BuildCliError::NotBuildable {
                service: service.name.clone(),
            }
            .into());
        }
        if named {
            services.push(service);
        }
    }
    build_all(&session, &services, &opts)?;
    Ok(ExitCode::SUCCESS)
}

/// Build the image of each of `services` that has a `build:` section
/// (`compose build`, `up --build`).
pub fn build_all(
    session: &Session,
    services: &[&ServiceConfig],
    opts: &BuildOptions,
) -> Result<(), BuildCliError> {
    let store = ImageStore::open(&session.root)?;
    let init = InitProgram::current_exe();
    for service in services.iter().filter(|s| s.build.is_some()) {
        build_service(
            &session.root,
            &store,
            &init,
            &session.project,
            service,
            opts,
        )?;
    }
    Ok(())
}

/// Build `service`'s image into `store` and return it.
pub fn build_service(
    root: &Path,
    store: &ImageStore,
    init: &InitProgram,
    project: &Project,
    service: &ServiceConfig,
    opts: &BuildOptions,
) -> Result<Image, BuildCliError> {
    let build = service
        .build
        .as_ref()
        .ok_or_else(|| BuildCliError::NotBuildable {
            service: service.name.clone(),
        })?;
    let name = service.image_or_default(&project.name);
    let reference = |image: &str| {
        Reference::parse(image).map_err(|source| BuildCliError::Reference {
            service: service.name.clone(),
            image: image.to_string(),
            source,
        })
    };
    let mut tags = vec![reference(&name)?];
    for t in &build.tags {
        tags.push(reference(t)?);
    }
    let context = absolute(if build.context.is_empty() {
        "."
    } else {
        &build.context
    });
    let dockerfile_path = match build.dockerfile.as_str() {
        "" => context.join("Dockerfile"),
        d => context.join(d),
    };
    let dockerfile_text = if build.dockerfile_inline.is_empty() {
        std::fs::read_to_string(&dockerfile_path).map_err(|source| BuildCliError::Dockerfile {
            service: service.name.clone(),
            path: dockerfile_path.clone(),
            source,
        })?
    } else {
        build.dockerfile_inline.clone()
    };
    let mut build_args: BTreeMap<String, String> = build
        .args
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
        .collect();
    build_args.extend(opts.args.clone());
    let req = BuildRequest {
        context,
        dockerfile_path,
        dockerfile_text,
        build_args,
        target: (!build.target.is_empty()).then(|| build.target.clone()),
        tags,
        labels: build
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        no_cache: opts.no_cache || build.no_cache,
        pull: opts.pull || build.pull,
        // docker build's networks: its own NAT'd bridge unless `host` or
        // `none` (a project network is not joined while building).
        network: match build.network.as_str() {
            "none" => BuildNetwork::None,
            "host" => BuildNetwork::Host,
            _ => BuildNetwork::Bridge,
        },
        secrets: build_secrets(project, service, build)?,
    };
    let builder = Builder {
        store,
        root: root.to_path_buf(),
        init,
    };
    if !opts.quiet {
        eprintln!(" Building {}", service.name);
    }
    let mut printer = Printer::default();
    let quiet = opts.quiet;
    let built = exec::build(&builder, &req, &mut |e| {
        if !quiet {
            printer.event(e)
        }
    })
    .map_err(|source| BuildCliError::Build {
        service: service.name.clone(),
        source: Box::new(source),
    })?;
    if !opts.quiet {
        eprintln!(
            " {} {} Built ({})",
            console::style("✔").green(),
            service.name,
            built.id.short()
        );
    }
    Ok(store.find(&built.id.to_string())?)
}

/// The service's `build.secrets`, by the id `RUN --mount=type=secret`
/// names: the entry's `target`, else its `source` (docker compose's bake
/// translation), each from the top-level secret's `file:` (relative to the
/// project directory) or its `environment:` value, which the loader put in
/// `content`.
fn build_secrets(
    project: &Project,
    service: &ServiceConfig,
    build: &crate::model::BuildConfig,
) -> Result<BTreeMap<String, BuildSecret>, BuildCliError> {
    let mut out = BTreeMap::new();
    for r in &build.secrets {
        let def = project
            .secrets
            .get(&r.source)
            .ok_or_else(|| BuildCliError::UnknownSecret {
                service: service.name.clone(),
                secret: r.source.clone(),
            })?;
        let id = if r.target.is_empty() {
            r.source.clone()
        } else {
            r.target.clone()
        };
        let secret = if !def.file.is_empty() {
            BuildSecret::File(project.working_dir.join(&def.file))
        } else if !def.environment.is_empty() || !def.content.is_empty() {
            BuildSecret::Value(def.content.clone().into_bytes())
        } else {
            return Err(BuildCliError::SecretWithoutSource {
                service: service.name.clone(),
                secret: r.source.clone(),
            });
        };
        out.insert(id, secret);
    }
    Ok(out)
}

fn absolute(p: &str) -> PathBuf {
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
    }
}

/// BuildKit's plain progress: each step numbered, then CACHED, its
/// output lines and DONE with the time taken.
#[derive(Default)]
struct Printer {
    n: usize,
    /// The current step came from the cache: BuildKit shows no DONE then.
    cached: bool,
}

impl Printer {
    fn event(&mut self, e: Event) {
        match e {
            Event::Step {
                stage,
                step,
                total,
                instruction,
            } => {
                self.n += 1;
                self.cached = false;
                eprintln!("#{} [{stage} {step}/{total}] {instruction}", self.n);
            }
            Event::Cached => {
                self.cached = true;
                eprintln!("#{} CACHED", self.n)
            }
            Event::Output { line } => eprintln!("#{} {line}", self.n),
            Event::Done { millis } if !self.cached => {
                eprintln!("#{} DONE {:.1}s", self.n, millis as f64 / 1000.0)
            }
            Event::Done { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn project(text: &str) -> Project {
        let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
        let mut doc = crate::loader::yaml::parse_str(text, &file).unwrap();
        crate::loader::canonical::canonical(&mut doc, &mut Vec::new()).unwrap();
        let mut p = Project::from_node(&doc).unwrap();
        p.working_dir = PathBuf::from("/proj");
        p
    }

    #[test]
    fn build_secrets_are_named_by_target_else_source() {
        let p = project(concat!(
            "services:\n  web:\n    build:\n      context: .\n      secrets:\n",
            "        - token\n        - {source: api, target: apikey}\n",
            "secrets:\n  token: {file: ./token.txt}\n  api: {content: from-env}\n",
        ));
        let web = &p.services["web"];
        let got = build_secrets(&p, web, web.build.as_ref().unwrap()).unwrap();
        assert_eq!(
            got,
            BTreeMap::from([
                (
                    "token".to_string(),
                    BuildSecret::File(PathBuf::from("/proj/./token.txt"))
                ),
                (
                    "apikey".to_string(),
                    BuildSecret::Value(b"from-env".to_vec())
                ),
            ])
        );
        assert!(!format!("{got:?}").contains("from-env"), "Debug redacts");
    }

    #[test]
    fn undeclared_or_sourceless_build_secrets_are_errors() {
        let p = project("services:\n  web:\n    build:\n      context: .\n      secrets: [nope]\n");
        let web = &p.services["web"];
        let e = build_secrets(&p, web, web.build.as_ref().unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "service web: build secret `nope` is not declared in the top-level `secrets:`"
        );
        let p = project(concat!(
            "services:\n  web:\n    build:\n      context: .\n      secrets: [ext]\n",
            "secrets:\n  ext: {external: true}\n",
        ));
        let web = &p.services["web"];
        let e = build_secrets(&p, web, web.build.as_ref().unwrap()).unwrap_err();
        assert!(
            e.to_string().contains("needs `file:` or `environment:`"),
            "{e}"
        );
    }
}
