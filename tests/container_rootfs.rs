//! Root filesystems the image does not prepare: an image built FROM
//! scratch (a static busybox and nothing else: no /proc, /dev, /sys, /etc)
//! gets its mount points made in the container's writable layer, as
//! Docker does, and mount targets under symlinks of the image resolve
//! inside the container, never on the host. Needs root.

mod container_support;

use compose_runtime::container::{ContainerSpec, Mount};
use container_support::Fixture;
use std::path::{Path, PathBuf};

/// A layer with /bin/busybox and a few applet links, nothing else.
fn scratch_layer(fx: &Fixture, name: &str) -> PathBuf {
    let layer = fx.root.path().join("images/layers").join(name);
    std::fs::create_dir_all(layer.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", layer.join("bin/busybox")).unwrap();
    for applet in ["sh", "cat", "ls", "grep", "test", "cut"] {
        std::os::unix::fs::symlink("busybox", layer.join("bin").join(applet)).unwrap();
    }
    layer
}

/// Every path under `dir`, relative, sorted: a layer must not change.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                todo.push(path.clone());
            }
            out.push(path.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out.sort();
    out
}

fn spec_on(fx: &Fixture, layer: &Path, script: &str) -> ContainerSpec {
    let mut spec = ContainerSpec::new(
        fx.id(),
        vec![layer.to_path_buf()],
        vec!["/bin/sh".into(), "-c".into(), script.into()],
    );
    spec.hostname = "scratchy".into();
    spec
}

#[test]
fn an_image_from_scratch_gets_its_mount_points_in_the_writable_layer() {
    // The init inherits it; mount points must still come out 0755. (The
    // whole test binary gets it: its other tests run as root and do not
    // care.)
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let fx = Fixture::new("scratch");
    let layer = scratch_layer(&fx, "scratch");
    let before = tree(&layer);
    let host_dir = fx.root.path().join("host-data");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("f"), "bound\n").unwrap();
    let host_file = fx.root.path().join("app.conf");
    std::fs::write(&host_file, "conf\n").unwrap();
    let script = "cat /proc/1/comm; test -c /dev/null && echo dev; ls /dev/pts/ptmx; \
                  grep -c ' /dev/shm ' /proc/mounts; test -d /sys/kernel && echo sys; \
                  cat /etc/hostname; grep -c '^127.0.0.1' /etc/hosts; test -f /etc/resolv.conf \
                  && echo resolv; cat /data/nested/deep/f /conf/app.conf; \
                  grep ' /run/cache ' /proc/mounts | cut -d' ' -f3; ls -d /work";
    let mut spec = spec_on(&fx, &layer, script);
    spec.mounts = vec![
        Mount::Bind {
            source: host_dir.clone(),
            target: "/data/nested/deep".into(),
            read_only: true,
        },
        Mount::Bind {
            source: host_file,
            target: "/conf/app.conf".into(),
            read_only: false,
        },
        Mount::Tmpfs {
            target: "/run/cache".into(),
            size: None,
            mode: None,
        },
    ];
    spec.process.cwd = "/work".into();
    let (code, out, entries) = fx.run(&spec);
    assert_eq!(code, 0, "{entries:?}\ninit.log: {}", fx.init_log());
    assert_eq!(
        out,
        "compose-init\ndev\n/dev/pts/ptmx\n1\nsys\nscratchy\n1\nresolv\nbound\nconf\ntmpfs\n/work\n"
    );
    // The image's layer is untouched; the mount points went to upper/.
    assert_eq!(tree(&layer), before);
    let upper = fx.state_dir().join("upper");
    for made in [
        "proc",
        "dev",
        "sys",
        "etc/hosts",
        "data/nested/deep",
        "conf/app.conf",
        "run/cache",
        "work",
    ] {
        assert!(
            std::fs::symlink_metadata(upper.join(made)).is_ok(),
            "{made} is not in the writable layer"
        );
    }
    // Made as Docker makes them (0755), whatever the caller's umask.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(upper.join("data/nested"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o755);
    // The bind source was not written to.
    assert_eq!(std::fs::read_dir(&host_dir).unwrap().count(), 1);
}

#[test]
fn a_read_only_root_from_scratch_still_gets_its_mount_points() {
    let fx = Fixture::new("scratch-ro");
    let layer = scratch_layer(&fx, "scratch-ro");
    let script = "cat /etc/hostname; grep ' /tmp ' /proc/mounts | cut -d' ' -f3; \
                  (echo > /x) 2>/dev/null || echo ro";
    let mut spec = spec_on(&fx, &layer, script);
    spec.rootfs.read_only = true;
    spec.mounts = vec![Mount::Tmpfs {
        target: "/tmp".into(),
        size: None,
        mode: None,
    }];
    let (code, out, entries) = fx.run(&spec);
    assert_eq!(code, 0, "{entries:?}\ninit.log: {}", fx.init_log());
    assert_eq!(out, "scratchy\ntmpfs\nro\n");
}

#[test]
fn mount_targets_under_image_symlinks_stay_inside_the_container() {
    let fx = Fixture::new("symlinks");
    let layer = scratch_layer(&fx, "symlinks");
    let outside = fx.root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    // An absolute link that climbs above "/", one into where pivot_root
    // parks the host's root, and a relative one climbing out.
    let escape1 = outside.join("escape1");
    let escape2 = outside.join("escape2");
    let escape3 = outside.join("escape3");
    let link = |name: &str, to: String| {
        std::os::unix::fs::symlink(to, layer.join(name)).unwrap();
    };
    link("data", format!("/../../..{}", escape1.display()));
    link("old", format!("/.compose-old-root{}", escape2.display()));
    link("rel", format!("../../../../../../..{}", escape3.display()));
    let host_dir = fx.root.path().join("host-data");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("f"), "bound\n").unwrap();
    let inside1 = escape1.display().to_string();
    // Inside, each link resolves against the container's root.
    let script = format!(
        "cat {inside1}/x/f; grep -c ' {inside1}/x ' /proc/mounts; \
         grep -c ' /.compose-old-root{}/y tmpfs' /proc/mounts; \
         grep -c ' {}/z tmpfs' /proc/mounts",
        escape2.display(),
        escape3.display()
    );
    let mut spec = spec_on(&fx, &layer, &script);
    spec.mounts = vec![
        Mount::Bind {
            source: host_dir,
            target: "/data/x".into(),
            read_only: true,
        },
        Mount::Tmpfs {
            target: "/old/y".into(),
            size: None,
            mode: None,
        },
        Mount::Tmpfs {
            target: "/rel/z".into(),
            size: None,
            mode: None,
        },
    ];
    let (code, out, entries) = fx.run(&spec);
    assert_eq!(code, 0, "{entries:?}\ninit.log: {}", fx.init_log());
    assert_eq!(out, "bound\n1\n1\n1\n");
    for escape in [&escape1, &escape2, &escape3] {
        assert!(
            !escape.exists(),
            "{} was created on the host",
            escape.display()
        );
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    // Where they went instead: the container's writable layer.
    let upper = fx.state_dir().join("upper");
    let in_upper = upper.join(escape1.strip_prefix("/").unwrap()).join("x");
    assert!(in_upper.is_dir(), "{} missing", in_upper.display());
}

#[test]
fn a_proc_symlink_in_the_image_is_refused() {
    let fx = Fixture::new("proc-link");
    let layer = scratch_layer(&fx, "proc-link");
    std::fs::create_dir_all(layer.join("fake")).unwrap();
    std::os::unix::fs::symlink("/fake", layer.join("proc")).unwrap();
    let spec = spec_on(&fx, &layer, "true");
    let err = compose_runtime::container::Container::create(
        &spec,
        &fx.state_dir(),
        &container_support::init_program(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/proc is not a directory"), "{err}");
    container_support::assert_no_mounts_under(fx.root.path());
}
