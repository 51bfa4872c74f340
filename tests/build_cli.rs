//! `compose build` and `up` building a missing image, end to end with the
//! bundled builder: a multi-stage Dockerfile FROM the test's busybox
//! image (RUN in our containers, COPY with --chown/--chmod and --from, a
//! deletion in a later layer), the cache on rebuild, a failing RUN, a COPY
//! outside the context, and `up` running the built image. Needs root.

mod up_support;

use compose_runtime::image::compression::decompress;
use compose_runtime::image::{ImageStore, Reference};
use std::io::{BufReader, Read};
use up_support::{stderr, Project};

const COMPOSE: &str = "services:\n  web:\n    image: built:test\n    build:\n      context: .\n    command: [\"sh\", \"-c\", \"cat /app/hello.txt /copied; ls /data; id -u; echo greeting=$$GREETING; sleep 30\"]\n";

const DOCKERFILE: &str = r#"FROM busybox:test AS base
ENV GREETING=hello
RUN echo built > /etc/built && mkdir -p /data && echo x > /data/gone && echo y > /data/kept
RUN rm /data/gone

FROM base AS final
ARG VERSION=1
COPY app/ /app/
COPY --from=base /etc/built /copied
COPY --chown=1000:1000 --chmod=600 secret.txt /app/secret.txt
WORKDIR /app
USER 1000
CMD ["cat", "/app/hello.txt"]
"#;

fn project(name: &str, dockerfile: &str) -> Project {
    let p = Project::new(name, COMPOSE);
    std::fs::write(p.dir.join("Dockerfile"), dockerfile).unwrap();
    std::fs::create_dir_all(p.dir.join("app/sub")).unwrap();
    std::fs::write(p.dir.join("app/hello.txt"), "hello from the context\n").unwrap();
    std::fs::write(p.dir.join("app/sub/deep.txt"), "deep\n").unwrap();
    std::fs::write(p.dir.join("secret.txt"), "s3cret\n").unwrap();
    p
}

/// Every entry name of every layer of `image`, per layer, with owner/mode.
fn layer_entries(store: &ImageStore, image: &str) -> Vec<Vec<(String, u64, u32)>> {
    let img = store
        .get(&Reference::parse(image).unwrap())
        .unwrap()
        .unwrap();
    let manifest = store.manifest(&img.manifest).unwrap();
    manifest
        .layers
        .iter()
        .map(|l| {
            let f = store.open_blob(&l.digest).unwrap();
            let (_, plain) = decompress(BufReader::new(f)).unwrap();
            let mut a = tar::Archive::new(plain);
            a.entries()
                .unwrap()
                .map(|e| {
                    let mut e = e.unwrap();
                    let h = e.header().clone();
                    let mut sink = Vec::new();
                    e.read_to_end(&mut sink).unwrap();
                    (
                        e.path().unwrap().display().to_string(),
                        h.uid().unwrap(),
                        h.mode().unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn multi_stage_build_then_cached_rebuild_then_up_runs_it() {
    let p = project("build", DOCKERFILE);
    let out = p.compose(&["build"]);
    let err = stderr(&out);
    assert!(out.status.success(), "build failed: {err}");
    assert!(err.contains("RUN rm /data/gone"), "{err}");

    let store = ImageStore::open(p.compose_root()).unwrap();
    let img = store
        .get(&Reference::parse("built:test").unwrap())
        .unwrap()
        .unwrap();
    let c = &img.config.config;
    assert_eq!(c.cmd, Some(vec!["cat".into(), "/app/hello.txt".into()]));
    assert_eq!(c.user.as_deref(), Some("1000"));
    assert_eq!(c.working_dir.as_deref(), Some("/app"));
    assert!(c.env.contains(&"GREETING=hello".to_string()), "{:?}", c.env);
    assert_eq!(
        img.config.rootfs.diff_ids.len(),
        img.config
            .history
            .iter()
            .filter(|h| h.get("empty_layer").is_none())
            .count()
    );

    let layers = layer_entries(&store, "built:test");
    // busybox, RUN, RUN rm, COPY app/, COPY --from, COPY --chown.
    assert_eq!(layers.len(), 6, "{layers:?}");
    assert!(
        layers[2].iter().any(|(n, _, _)| n == "data/.wh.gone"),
        "whiteout: {:?}",
        layers[2]
    );
    assert!(
        layers[3].iter().any(|(n, _, _)| n == "app/sub/deep.txt"),
        "{:?}",
        layers[3]
    );
    let secret = layers[5]
        .iter()
        .find(|(n, _, _)| n == "app/secret.txt")
        .unwrap();
    assert_eq!((secret.1, secret.2 & 0o7777), (1000, 0o600));

    // Nothing changed: every step comes from the cache, the same image.
    let again = p.compose(&["build"]);
    let err2 = stderr(&again);
    assert!(again.status.success(), "{err2}");
    assert_eq!(err2.matches("CACHED").count(), 5, "{err2}");
    let img2 = store
        .get(&Reference::parse("built:test").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        img2.id, img.id,
        "a fully cached rebuild reproduces the image"
    );

    // A changed context file re-runs that COPY and what follows only.
    std::fs::write(p.dir.join("app/hello.txt"), "changed\n").unwrap();
    let third = stderr(&p.compose(&["build"]));
    assert_eq!(third.matches("CACHED").count(), 2, "{third}");

    p.ok(&["up", "-d"]);
    let logs = p.logs_containing("greeting=hello");
    assert!(logs.contains("changed"), "{logs}");
    assert!(logs.contains("built"), "{logs}");
    assert!(logs.contains("kept") && !logs.contains("gone"), "{logs}");
    assert!(logs.contains("1000"), "{logs}");
    p.ok(&["down", "-t", "0"]);
}

#[test]
fn up_builds_a_missing_image() {
    let p = project("upbuild", "FROM busybox:test\nCOPY app/hello.txt /app/hello.txt\nRUN mkdir -p /data && echo kept > /data/kept && echo built > /copied\nENV GREETING=hello\n");
    p.ok(&["up", "-d"]);
    let logs = p.logs_containing("greeting=hello");
    assert!(logs.contains("hello from the context"), "{logs}");
    p.ok(&["down", "-t", "0"]);

    // The image exists now: plain `up` keeps it, `up --build` rebuilds.
    std::fs::write(p.dir.join("app/hello.txt"), "rebuilt\n").unwrap();
    let out = p.compose(&["up", "-d", "--build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = p.logs_containing("rebuilt");
    assert!(logs.contains("rebuilt"), "{logs}");
    p.ok(&["down", "-t", "0"]);
}

#[test]
fn failing_run_shows_output_and_code_and_tags_nothing() {
    let p = project(
        "buildfail",
        "FROM busybox:test\nRUN echo about to fail && exit 3\n",
    );
    let out = p.compose(&["build"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("exit code 3"), "{err}");
    assert!(err.contains("about to fail"), "{err}");
    assert!(err.contains("Dockerfile:2"), "{err}");
    let store = ImageStore::open(p.compose_root()).unwrap();
    assert!(store
        .get(&Reference::parse("built:test").unwrap())
        .unwrap()
        .is_none());
}

#[test]
fn copy_outside_the_context_is_refused() {
    let p = project("buildout", "FROM busybox:test\nCOPY ../secret /x\n");
    let out = p.compose(&["build"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("outside the build context"), "{err}");
}

#[test]
fn run_mounts_cache_persists_bind_reads_the_context_neither_lands_in_the_layer() {
    let p = project(
        "buildmount",
        "FROM busybox:test\nRUN --mount=type=cache,target=/cache echo run >> /cache/count && wc -l < /cache/count > /seen\nRUN --mount=type=bind,source=app,target=/mnt cat /mnt/hello.txt > /from-bind\n",
    );
    for expected in ["1", "2"] {
        let out = p.compose(&["build", "--no-cache"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let store = ImageStore::open(p.compose_root()).unwrap();
        let layers = layer_entries(&store, "built:test");
        let names: Vec<&str> = layers[1..]
            .iter()
            .flatten()
            .map(|(n, _, _)| n.as_str())
            .collect();
        assert!(
            names.contains(&"seen") && names.contains(&"from-bind"),
            "{names:?}"
        );
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("cache") || n.starts_with("mnt")),
            "mount targets stay out of the layers: {names:?}"
        );
        let img = store
            .get(&Reference::parse("built:test").unwrap())
            .unwrap()
            .unwrap();
        let seen = img
            .layer_dirs
            .iter()
            .rev()
            .map(|d| d.join("seen"))
            .find(|p| p.exists())
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(seen).unwrap().trim(),
            expected,
            "the cache mount persists across builds"
        );
    }
}

#[test]
fn inline_dockerfile_args_target_labels_tags_and_build_arg_flag() {
    let p = project("buildinline", "FROM busybox:test\n");
    p.write(concat!(
        "services:\n  web:\n    build:\n      context: .\n",
        "      dockerfile_inline: |\n",
        "        FROM busybox:test AS first\n",
        "        ARG WHO=nobody\n",
        "        ARG EXTRA\n",
        "        RUN echo \"$$WHO $$EXTRA\" > /who\n",
        "        FROM busybox:test AS second\n",
        "        RUN echo never > /never\n",
        "      args:\n        WHO: compose\n",
        "      target: first\n",
        "      labels:\n        org.example.built: \"yes\"\n",
        "      tags: [\"extra:tag\"]\n",
    ));
    let out = p.compose(&["build", "--build-arg", "EXTRA=flag"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("echo never"),
        "the target stops at `first`: {err}"
    );
    let store = ImageStore::open(p.compose_root()).unwrap();
    // No `image:`: the image is named <project>-<service>.
    let name = format!("{}-web", p.name);
    let img = store
        .get(&Reference::parse(&name).unwrap())
        .unwrap()
        .unwrap();
    let tagged = store
        .get(&Reference::parse("extra:tag").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(img.id, tagged.id);
    assert_eq!(
        img.config
            .config
            .labels
            .get("org.example.built")
            .map(String::as_str),
        Some("yes")
    );
    let who = img
        .layer_dirs
        .iter()
        .rev()
        .map(|d| d.join("who"))
        .find(|p| p.exists())
        .unwrap();
    assert_eq!(std::fs::read_to_string(who).unwrap(), "compose flag\n");
}

#[test]
fn run_steps_get_a_natted_network_of_their_own_unless_host() {
    // The default: a bridge of the build's own (an address on it, the
    // host's resolvers), gone when the build ends; `network: host` keeps
    // the host's namespace.
    let p = project("buildnet", "FROM busybox:test\n");
    let yaml = |network: &str| {
        format!(
            "services:\n  own:\n    image: net:own\n    build:\n      context: .\n{network}      dockerfile_inline: |\n        FROM busybox:test\n        RUN ip -o -4 addr show > /netinfo; cat /etc/resolv.conf > /resolvinfo\n    command: [\"sh\", \"-c\", \"cat /netinfo /resolvinfo; sleep 30\"]\n"
        )
    };
    p.write(&yaml(""));
    let out = p.compose(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        p.network_interfaces().is_empty(),
        "the build's network is gone"
    );
    let nft = std::process::Command::new("nft")
        .args([
            "list",
            "table",
            "ip",
            &compose_runtime::network::nft::table_for_root(p.compose_root()),
        ])
        .output()
        .unwrap();
    assert!(!nft.status.success(), "no nft table left by the build");
    let info = p.ok(&["run", "--rm", "-T", "own", "cat", "/netinfo", "/resolvinfo"]);
    assert!(info.contains("eth0") && info.contains("inet 10."), "{info}");
    let host_resolvers: Vec<String> = std::fs::read_to_string("/etc/resolv.conf")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("nameserver ") && !l.contains(" 127.") && !l.contains(" ::1"))
        .map(str::to_string)
        .collect();
    for line in &host_resolvers {
        assert!(info.contains(line.as_str()), "{line} in {info}");
    }

    p.write(&yaml("      network: host\n"));
    let out = p.compose(&["build", "--no-cache"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info = p.ok(&["run", "--rm", "-T", "own", "cat", "/netinfo"]);
    let host = std::process::Command::new("ip")
        .args(["-o", "-4", "addr", "show"])
        .output()
        .unwrap();
    let host = String::from_utf8_lossy(&host.stdout);
    let first_host_iface = host.lines().find(|l| !l.contains(" lo ")).unwrap();
    let iface = first_host_iface.split_whitespace().nth(1).unwrap();
    assert!(
        info.contains(&format!(" {iface} ")),
        "host's {iface} in {info}"
    );
    p.ok(&["down", "-t", "0"]);
}
