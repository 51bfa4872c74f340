//! Making relative paths absolute (compose-go `paths/`): build contexts and
//! additional contexts, bind-mount sources, `env_file` and `label_file`,
//! secrets' and configs' `file`, `extends.file`, `develop.watch` paths, the
//! device of a local bind volume, and `build.ssh` keys. A leading `~` is the
//! user's home directory (HOME of the loader's environment).
//!
//! Runs on the canonical document, and also accepts the short forms (a build
//! string, `./src:/dst` volumes, `env_file` strings) so that it gives the same
//! result whichever stage wrote the value.

use super::node::{Location, Node, NodePath, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("{location}: a bind mount needs a `source`: the host path to mount")]
    BindWithoutSource { location: Location },
}

/// Where relative paths start from.
#[derive(Debug, Clone)]
pub struct Base<'a> {
    /// The project directory (or an extended file's directory).
    pub dir: &'a Path,
    /// The home directory `~` stands for; `~` stays as written without one.
    pub home: Option<&'a Path>,
}

impl Base<'_> {
    /// `path` made absolute: `~` expanded, then joined to the base directory.
    pub fn absolute(&self, path: &str) -> String {
        if path.is_empty() {
            return String::new();
        }
        let expanded = self.expand_home(path);
        let p = Path::new(&expanded);
        if p.is_absolute() {
            return expanded;
        }
        clean(&self.dir.join(p)).to_string_lossy().into_owned()
    }

    fn expand_home(&self, path: &str) -> String {
        match (self.home, path.strip_prefix('~')) {
            (Some(home), Some(rest)) if rest.is_empty() || rest.starts_with('/') => {
                clean(&home.join(rest.trim_start_matches('/')))
                    .to_string_lossy()
                    .into_owned()
            }
            _ => path.to_string(),
        }
    }
}

/// `a/./b/../c` as `a/c`, as Go's `filepath.Join` cleans what it joins.
pub fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Resolve every relative path of the document against `base`.
pub fn resolve(doc: &mut Node, base: &Base) -> Result<(), PathsError> {
    if let Some(services) = doc.get_mut("services").and_then(Node::as_map_mut) {
        for (name, service) in services.iter_mut() {
            let path = NodePath::root().key("services").key(name.as_str());
            resolve_service(service, base, &path)?;
        }
    }
    for kind in ["secrets", "configs"] {
        for (_, def) in entries_mut(doc, kind) {
            if let Some(file) = def.get_mut("file") {
                absolute_in_place(file, base);
            }
        }
    }
    for (_, volume) in entries_mut(doc, "volumes") {
        local_bind_device(volume, base);
    }
    Ok(())
}

fn entries_mut<'d>(
    doc: &'d mut Node,
    kind: &str,
) -> impl Iterator<Item = (&'d String, &'d mut Node)> {
    doc.get_mut(kind)
        .and_then(Node::as_map_mut)
        .into_iter()
        .flat_map(|m| m.iter_mut())
}

fn resolve_service(service: &mut Node, base: &Base, path: &NodePath) -> Result<(), PathsError> {
    if let Some(build) = service.get_mut("build") {
        resolve_build(build, base);
    }
    if let Some(env_files) = service.get_mut("env_file") {
        for_each_item(env_files, |item| match item.get_mut("path") {
            Some(p) => absolute_in_place(p, base),
            None => absolute_in_place(item, base),
        });
    }
    if let Some(label_files) = service.get_mut("label_file") {
        for_each_item(label_files, |item| absolute_in_place(item, base));
    }
    if let Some(file) = service.get_mut("extends").and_then(|e| e.get_mut("file")) {
        absolute_in_place(file, base);
    }
    if let Some(watch) = service
        .get_mut("develop")
        .and_then(|d| d.get_mut("watch"))
        .and_then(Node::as_seq_mut)
    {
        for rule in watch {
            if let Some(p) = rule.get_mut("path") {
                absolute_in_place(p, base);
                follow_symlinks(p);
            }
        }
    }
    if let Some(volumes) = service.get_mut("volumes").and_then(Node::as_seq_mut) {
        for (i, volume) in volumes.iter_mut().enumerate() {
            resolve_volume(volume, base, &path.key("volumes").index(i))?;
        }
    }
    Ok(())
}

/// Apply `f` to a string or to each item of a list.
fn for_each_item(node: &mut Node, mut f: impl FnMut(&mut Node)) {
    match node.as_seq_mut() {
        Some(items) => items.iter_mut().for_each(f),
        None => f(node),
    }
}

fn absolute_in_place(node: &mut Node, base: &Base) {
    if let Value::String(s) = &node.value {
        node.value = Value::String(base.absolute(s));
    }
}

fn resolve_build(build: &mut Node, base: &Base) {
    if build.as_str().is_some() {
        context_in_place(build, base);
        return;
    }
    if let Some(context) = build.get_mut("context") {
        context_in_place(context, base);
    }
    // `dockerfile` stays relative: it is relative to the context.
    match build.get_mut("additional_contexts").map(|n| &mut n.value) {
        Some(Value::Map(m)) => m.values_mut().for_each(|c| context_in_place(c, base)),
        Some(Value::Seq(items)) => {
            for item in items {
                if let Some(text) = item.as_str() {
                    if let Some((name, ctx)) = text.split_once('=') {
                        let ctx = context_path(ctx, base);
                        item.value = Value::String(format!("{name}={ctx}"));
                    }
                }
            }
        }
        _ => {}
    }
    match build.get_mut("ssh").map(|n| &mut n.value) {
        Some(Value::Map(m)) => m.values_mut().for_each(|k| absolute_in_place(k, base)),
        Some(Value::Seq(items)) => {
            for item in items {
                if let Some((id, key)) = item.as_str().and_then(|t| t.split_once('=')) {
                    item.value = Value::String(format!("{id}={}", base.absolute(key)));
                }
            }
        }
        _ => {}
    }
}

fn context_in_place(node: &mut Node, base: &Base) {
    if let Some(s) = node.as_str() {
        node.value = Value::String(context_path(s, base));
    }
}

/// A build context is a path unless it is a URL, a git reference or a
/// named context (`service:`, `docker-image://`, ...), as compose-go decides.
fn context_path(ctx: &str, base: &Base) -> String {
    const REMOTE: [&str; 6] = [
        "https://",
        "http://",
        "git://",
        "ssh://",
        "github.com/",
        "git@",
    ];
    if ctx.contains("://")
        || ctx.starts_with("service:")
        || REMOTE.iter().any(|p| ctx.starts_with(p))
    {
        return ctx.to_string();
    }
    base.absolute(ctx)
}

fn resolve_volume(volume: &mut Node, base: &Base, path: &NodePath) -> Result<(), PathsError> {
    match &mut volume.value {
        Value::Map(m) => {
            if m.get("type").and_then(Node::as_str) != Some("bind") {
                return Ok(());
            }
            match m.get_mut("source") {
                Some(source) => absolute_in_place(source, base),
                None => {
                    return Err(PathsError::BindWithoutSource {
                        location: Location::new(volume.span.clone(), path.clone()),
                    })
                }
            }
        }
        Value::String(s) => {
            // Short syntax `SOURCE:TARGET[:MODE]`: a source starting with `.`
            // or `~` is a relative host path (05-services.md "volumes").
            if let Some((source, rest)) = s.split_once(':') {
                if source.starts_with('.') || source.starts_with('~') {
                    *s = format!("{}:{rest}", base.absolute(source));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// A `local` volume with `o: bind` mounts its `device`, a host path.
fn local_bind_device(volume: &mut Node, base: &Base) {
    let is_local = volume
        .get("driver")
        .and_then(Node::as_str)
        .is_none_or(|d| d == "local");
    let Some(opts) = volume.get_mut("driver_opts") else {
        return;
    };
    let is_bind = opts
        .get("o")
        .and_then(Node::as_str)
        .is_some_and(|o| o.split(',').any(|x| x == "bind"));
    if is_local && is_bind {
        if let Some(device) = opts.get_mut("device") {
            absolute_in_place(device, base);
        }
    }
}

/// Watched paths are compared with the paths the file watcher reports, which
/// have their symbolic links resolved (compose-go resolves them here too).
fn follow_symlinks(node: &mut Node) {
    if let Some(real) = node.as_str().and_then(|p| std::fs::canonicalize(p).ok()) {
        node.value = Value::String(real.to_string_lossy().into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::yaml;
    use std::sync::Arc;

    fn resolved(text: &str) -> serde_json::Value {
        let mut doc = yaml::parse_str(text, &Arc::from(Path::new("c.yaml"))).unwrap();
        let base = Base {
            dir: Path::new("/proj"),
            home: Some(Path::new("/home/me")),
        };
        resolve(&mut doc, &base).unwrap();
        doc.to_json()
    }

    #[test]
    fn build_context_is_absolute_unless_remote() {
        let j = resolved(
            "services:\n  a: {build: ./app}\n  b: {build: {context: ../b, dockerfile: x/Dockerfile}}\n  c: {build: {context: 'https://github.com/x/y.git#main'}}\n  d: {build: {context: 'git@github.com:x/y.git'}}\n",
        );
        assert_eq!(j["services"]["a"]["build"], "/proj/app");
        assert_eq!(j["services"]["b"]["build"]["context"], "/b");
        assert_eq!(j["services"]["b"]["build"]["dockerfile"], "x/Dockerfile");
        assert_eq!(
            j["services"]["c"]["build"]["context"],
            "https://github.com/x/y.git#main"
        );
        assert_eq!(
            j["services"]["d"]["build"]["context"],
            "git@github.com:x/y.git"
        );
    }

    #[test]
    fn additional_contexts_and_ssh_keys() {
        let j = resolved(
            "services:\n  a:\n    build:\n      context: .\n      additional_contexts: {lib: ./lib, img: 'docker-image://alpine', svc: 'service:base'}\n      ssh: [default, 'key=~/.ssh/id']\n  b:\n    build:\n      additional_contexts: ['lib=../lib']\n",
        );
        let a = &j["services"]["a"]["build"];
        assert_eq!(a["context"], "/proj");
        assert_eq!(a["additional_contexts"]["lib"], "/proj/lib");
        assert_eq!(a["additional_contexts"]["img"], "docker-image://alpine");
        assert_eq!(a["additional_contexts"]["svc"], "service:base");
        assert_eq!(
            a["ssh"],
            serde_json::json!(["default", "key=/home/me/.ssh/id"])
        );
        assert_eq!(
            j["services"]["b"]["build"]["additional_contexts"][0],
            "lib=/lib"
        );
    }

    #[test]
    fn bind_sources_short_and_long() {
        let j = resolved(
            "services:\n  a:\n    volumes:\n      - ./data:/data:ro\n      - ~/cache:/cache\n      - named:/n\n      - /abs:/abs\n      - {type: bind, source: ../x, target: /x}\n      - {type: volume, source: v, target: /v}\n",
        );
        let v = &j["services"]["a"]["volumes"];
        assert_eq!(v[0], "/proj/data:/data:ro");
        assert_eq!(v[1], "/home/me/cache:/cache");
        assert_eq!(v[2], "named:/n");
        assert_eq!(v[3], "/abs:/abs");
        assert_eq!(v[4]["source"], "/x");
        assert_eq!(v[5]["source"], "v");
    }

    #[test]
    fn files_of_env_labels_secrets_configs_extends() {
        let j = resolved(
            "services:\n  a:\n    env_file: [a.env, {path: ./b.env, required: false}]\n    label_file: l.txt\n    extends: {file: base.yaml, service: x}\nsecrets: {s: {file: ./s.txt}, e: {external: true}}\nconfigs: {c: {file: /etc/c}}\nvolumes:\n  v: {driver_opts: {o: bind, device: ./dev, type: none}}\n  w: {driver: other, driver_opts: {o: bind, device: ./dev}}\n",
        );
        let a = &j["services"]["a"];
        assert_eq!(a["env_file"][0], "/proj/a.env");
        assert_eq!(a["env_file"][1]["path"], "/proj/b.env");
        assert_eq!(a["label_file"], "/proj/l.txt");
        assert_eq!(a["extends"]["file"], "/proj/base.yaml");
        assert_eq!(j["secrets"]["s"]["file"], "/proj/s.txt");
        assert_eq!(j["configs"]["c"]["file"], "/etc/c");
        assert_eq!(j["volumes"]["v"]["driver_opts"]["device"], "/proj/dev");
        assert_eq!(j["volumes"]["w"]["driver_opts"]["device"], "./dev");
    }

    #[test]
    fn watch_paths_are_absolute() {
        let j = resolved("services:\n  a:\n    develop:\n      watch: [{path: ./src, action: sync, target: /app}]\n");
        assert_eq!(
            j["services"]["a"]["develop"]["watch"][0]["path"],
            "/proj/src"
        );
    }

    #[test]
    fn tilde_without_home_stays() {
        let base = Base {
            dir: Path::new("/p"),
            home: None,
        };
        assert_eq!(base.absolute("~/x"), "/p/~/x");
        let base = Base {
            dir: Path::new("/p"),
            home: Some(Path::new("/h")),
        };
        assert_eq!(base.absolute("~"), "/h");
        assert_eq!(base.absolute("~other/x"), "/p/~other/x");
    }

    #[test]
    fn bind_without_source_names_the_place() {
        let mut doc = yaml::parse_str(
            "services:\n  a:\n    volumes:\n      - type: bind\n        target: /x\n",
            &Arc::from(Path::new("c.yaml")),
        )
        .unwrap();
        let base = Base {
            dir: Path::new("/p"),
            home: None,
        };
        let err = resolve(&mut doc, &base).unwrap_err().to_string();
        assert!(err.starts_with("c.yaml:4:"), "{err}");
        assert!(
            err.contains("services.a.volumes[0]: a bind mount needs a `source`"),
            "{err}"
        );
    }
}
