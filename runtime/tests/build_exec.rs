//! The build executor through its API, without RUN (which needs the
//! `compose` binary as container init; `tests/build_cli.rs` covers it):
//! FROM scratch and an imported image, COPY of files and directories with
//! --chown by name and --chmod, COPY heredocs, COPY --from a stage, ADD
//! unpacking a local tar, the config of the result, cache hits on an
//! unchanged rebuild, a COPY outside the context, and no tag on failure;
//! ONBUILD triggers of an image and of a stage, COPY --parents --from.
//! Needs root (unpacking layers with their owners).

mod common;

use common::require_root;
use compose_runtime::build::exec::{build, BuildNetwork, BuildRequest, Builder, Event, ExecError};
use compose_runtime::container::InitProgram;
use compose_runtime::image::import::import_rootfs;
use compose_runtime::image::{ImageStore, Reference};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

struct Fixture {
    root: tempfile::TempDir,
    store: ImageStore,
    context: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        require_root();
        let root = tempfile::tempdir().unwrap();
        let store = ImageStore::open(root.path()).unwrap();
        // A base image with an /etc/passwd naming `app` (uid 1000, gid 1001).
        let base = root.path().join("base.tar");
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in [
            (
                "etc/passwd",
                "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
            ),
            ("etc/group", "root:x:0:\napp:x:1001:\n"),
            ("opt/base.txt", "from the base\n"),
        ] {
            let mut h =
                compose_runtime::testing::header(tar::EntryType::Regular, 0o644, data.len() as u64);
            b.append_data(&mut h, path, data.as_bytes()).unwrap();
        }
        fs::write(&base, b.into_inner().unwrap()).unwrap();
        import_rootfs(&store, &base, Some(&Reference::parse("base:test").unwrap())).unwrap();

        let context = root.path().join("ctx");
        fs::create_dir_all(context.join("src/nested")).unwrap();
        fs::write(context.join("src/a.txt"), "a\n").unwrap();
        fs::write(context.join("src/nested/b.txt"), "b\n").unwrap();
        fs::write(context.join("ignored.log"), "no\n").unwrap();
        fs::write(context.join(".dockerignore"), "*.log\n").unwrap();
        // A tar for ADD to unpack.
        let mut t = tar::Builder::new(Vec::new());
        let data = b"unpacked\n";
        let mut h =
            compose_runtime::testing::header(tar::EntryType::Regular, 0o640, data.len() as u64);
        t.append_data(&mut h, "inside/file.txt", &data[..]).unwrap();
        fs::write(context.join("bundle.tar"), t.into_inner().unwrap()).unwrap();
        Fixture {
            root,
            store,
            context,
        }
    }

    fn build(
        &self,
        dockerfile: &str,
        tag: &str,
    ) -> (
        Result<compose_runtime::build::exec::Built, ExecError>,
        Vec<Event>,
    ) {
        let init = InitProgram::at("/nonexistent-no-run-in-these-tests");
        let builder = Builder {
            store: &self.store,
            root: self.root.path().to_path_buf(),
            init: &init,
        };
        let req = BuildRequest {
            context: self.context.clone(),
            dockerfile_path: self.context.join("Dockerfile"),
            dockerfile_text: dockerfile.to_string(),
            build_args: BTreeMap::new(),
            target: None,
            tags: vec![Reference::parse(tag).unwrap()],
            labels: BTreeMap::from([("org.test".to_string(), "yes".to_string())]),
            no_cache: false,
            network: BuildNetwork::None,
            pull: false,
            secrets: BTreeMap::new(),
        };
        let mut events = Vec::new();
        let r = build(&builder, &req, &mut |e| events.push(e));
        (r, events)
    }

    /// Where `rel` is in the image's layers (top-most first).
    fn find(&self, tag: &str, rel: &str) -> Option<PathBuf> {
        let img = self.store.get(&Reference::parse(tag).unwrap()).unwrap()?;
        img.layer_dirs
            .iter()
            .rev()
            .map(|d| d.join(rel))
            .find(|p| p.symlink_metadata().is_ok())
    }
}

const DOCKERFILE: &str = "FROM scratch AS files
COPY <<EOF /greeting.txt
hello $NAME
EOF

FROM base:test
ENV NAME=world
COPY --chown=app --chmod=750 src/ /app/
COPY --from=files /greeting.txt /app/greeting.txt
ADD bundle.tar /unpacked/
COPY . /ctx/
WORKDIR /app
USER app
CMD [\"run\"]
";

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap()
}

#[test]
fn copy_add_from_and_config_then_a_cached_rebuild() {
    let f = Fixture::new();
    let (r, events) = f.build(DOCKERFILE, "out:test");
    let built = r.unwrap();
    assert_eq!(built.cached, 0);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Step { instruction, .. } if instruction.starts_with("ADD"))));

    let a = f.find("out:test", "app/a.txt").unwrap();
    assert_eq!(read(&a), "a\n");
    let meta = fs::metadata(&a).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (1000, 1001, 0o750)
    );
    assert_eq!(
        read(&f.find("out:test", "app/nested/b.txt").unwrap()),
        "b\n"
    );
    // The heredoc of a `FROM scratch` stage: $NAME unset there.
    assert_eq!(
        read(&f.find("out:test", "app/greeting.txt").unwrap()),
        "hello \n"
    );
    assert_eq!(
        read(&f.find("out:test", "unpacked/inside/file.txt").unwrap()),
        "unpacked\n"
    );
    assert_eq!(
        read(&f.find("out:test", "opt/base.txt").unwrap()),
        "from the base\n"
    );
    assert!(f.find("out:test", "ctx/src/a.txt").is_some());
    assert!(
        f.find("out:test", "ctx/ignored.log").is_none(),
        ".dockerignore applies"
    );

    let img = f
        .store
        .get(&Reference::parse("out:test").unwrap())
        .unwrap()
        .unwrap();
    let c = &img.config.config;
    assert_eq!(c.user.as_deref(), Some("app"));
    assert_eq!(c.working_dir.as_deref(), Some("/app"));
    assert_eq!(c.cmd, Some(vec!["run".to_string()]));
    assert!(c.env.contains(&"NAME=world".to_string()));
    assert_eq!(c.labels.get("org.test").map(String::as_str), Some("yes"));
    assert_eq!(
        img.config.rootfs.diff_ids.len(),
        5,
        "base + 4 COPY/ADD layers"
    );

    let (again, events) = f.build(DOCKERFILE, "out:test");
    let again = again.unwrap();
    assert_eq!((again.executed, again.cached), (0, 5));
    assert_eq!(events.iter().filter(|e| **e == Event::Cached).count(), 5);
    assert_eq!(again.id, built.id, "same image from the cache");

    fs::write(f.context.join("src/a.txt"), "changed\n").unwrap();
    let changed = f.build(DOCKERFILE, "out:test").0.unwrap();
    // The scratch stage's heredoc COPY is unchanged; the edited COPY and
    // every step after it run again.
    assert_eq!((changed.cached, changed.executed), (1, 4));
    assert_ne!(changed.id, built.id);
}

#[test]
fn copy_outside_the_context_fails_and_tags_nothing() {
    let f = Fixture::new();
    let (r, _) = f.build("FROM base:test\nCOPY ../escape /x\n", "bad:test");
    let err = r.unwrap_err().to_string();
    assert!(err.contains("outside the build context"), "{err}");
    let (r, _) = f.build(
        "FROM base:test\nCOPY src/a.txt /a\nCOPY missing.txt /m\n",
        "bad:test",
    );
    let err = r.unwrap_err().to_string();
    assert!(err.contains("missing.txt"), "{err}");
    assert!(f
        .store
        .get(&Reference::parse("bad:test").unwrap())
        .unwrap()
        .is_none());
}

#[test]
fn several_sources_need_a_directory_destination() {
    let f = Fixture::new();
    let (r, _) = f.build(
        "FROM base:test\nCOPY src/a.txt src/nested/b.txt /file\n",
        "bad:test",
    );
    let err = r.unwrap_err().to_string();
    assert!(
        err.contains("Dockerfile:2") && err.contains("ending in `/`"),
        "{err}"
    );
}

#[test]
fn scratch_left_by_a_killed_build_is_swept_by_the_next() {
    let f = Fixture::new();
    let tmp = f.root.path().join("build-tmp");
    let (stale, young) = (tmp.join("build-dead"), tmp.join("build-starting"));
    for d in [&stale, &young] {
        fs::create_dir_all(d.join("step-1/upper")).unwrap();
    }
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    fs::File::open(&stale)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    f.build("FROM base:test\nCOPY src/a.txt /a\n", "ok:test")
        .0
        .unwrap();
    assert!(!stale.exists(), "an old unlocked scratch dir is removed");
    assert!(
        young.exists(),
        "a recent one may belong to a starting build"
    );
    let left: Vec<_> = fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("build-starting")],
        "the build removed its own"
    );
}

#[test]
fn onbuild_triggers_of_an_image_and_of_a_stage_run_in_the_child() {
    let f = Fixture::new();
    let parent = "FROM base:test\nONBUILD COPY src/a.txt /trig/a.txt\nONBUILD ENV FROM_TRIGGER=yes\nLABEL parent=1\n";
    f.build(parent, "parent:test").0.unwrap();
    let img = f
        .store
        .get(&Reference::parse("parent:test").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        img.config.config.on_build,
        ["COPY src/a.txt /trig/a.txt", "ENV FROM_TRIGGER=yes"]
    );
    assert!(f.find("parent:test", "trig/a.txt").is_none());

    let (r, events) = f.build(
        "FROM parent:test AS mid\nONBUILD COPY src/nested/b.txt /trig/b.txt\nFROM mid\n",
        "child:test",
    );
    r.unwrap();
    let shown: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Step { instruction, .. } => Some(instruction.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        shown,
        [
            "ONBUILD COPY src/a.txt /trig/a.txt",
            "ONBUILD ENV FROM_TRIGGER=yes",
            "ONBUILD COPY src/nested/b.txt /trig/b.txt",
            "ONBUILD COPY src/nested/b.txt /trig/b.txt",
        ]
    );
    let child = f
        .store
        .get(&Reference::parse("child:test").unwrap())
        .unwrap()
        .unwrap();
    assert!(child.config.config.on_build.is_empty());
    assert!(child
        .config
        .config
        .env
        .contains(&"FROM_TRIGGER=yes".to_string()));
    assert_eq!(read(&f.find("child:test", "trig/a.txt").unwrap()), "a\n");
    assert_eq!(read(&f.find("child:test", "trig/b.txt").unwrap()), "b\n");

    // A heredoc trigger keeps its body; a changed body is a new trigger.
    for body in ["v1", "v2"] {
        let parent = format!(
            "FROM base:test\nONBUILD COPY <<EOF /doc.txt\n{body}\nEOF\nCOPY src/a.txt /a\n"
        );
        f.build(&parent, "heredoc:test").0.unwrap();
        f.build("FROM heredoc:test\n", "heredoc-child:test")
            .0
            .unwrap();
        assert_eq!(
            read(&f.find("heredoc-child:test", "doc.txt").unwrap()),
            format!("{body}\n")
        );
    }

    // A trigger may copy from a stage of the child's Dockerfile, needed
    // by the target or not (it is built first), but not from itself.
    f.build(
        "FROM base:test\nONBUILD COPY --from=helper /made /trig/made\n",
        "copier:test",
    )
    .0
    .unwrap();
    let uses = "FROM scratch AS helper\nCOPY src/a.txt /made\nFROM copier:test\nCOPY --from=helper /made /direct\n";
    f.build(uses, "uses:test").0.unwrap();
    assert_eq!(read(&f.find("uses:test", "trig/made").unwrap()), "a\n");
    let unused = "FROM scratch AS helper\nCOPY src/nested/b.txt /made\nFROM copier:test\n";
    f.build(unused, "unused:test").0.unwrap();
    assert_eq!(read(&f.find("unused:test", "trig/made").unwrap()), "b\n");
    let itself = "FROM copier:test AS helper\n";
    let err = f.build(itself, "itself:test").0.unwrap_err().to_string();
    assert!(
        err.contains("Dockerfile:1: an ONBUILD trigger of the base copies --from=helper"),
        "{err}"
    );
}

#[test]
fn copy_parents_from_a_stage_and_copy_refuses_urls() {
    let f = Fixture::new();
    let (r, _) = f.build(
        "FROM base:test AS a\nFROM scratch\nCOPY --parents --from=a etc/passwd opt/./base.txt /out/\n",
        "parents:test",
    );
    r.unwrap();
    assert!(read(&f.find("parents:test", "out/etc/passwd").unwrap()).contains("app:x:1000"));
    assert_eq!(
        read(&f.find("parents:test", "out/base.txt").unwrap()),
        "from the base\n"
    );
    assert!(f.find("parents:test", "out/opt").is_none(), "pivot");

    let (r, _) = f.build("FROM base:test\nCOPY http://127.0.0.1:9/x /x\n", "bad:test");
    let err = r.unwrap_err().to_string();
    assert!(
        err.contains("Dockerfile:2: ") && err.contains("use ADD"),
        "{err}"
    );
}
