//! `compose cp` in both directions, with tar streams, into every replica,
//! through container symlinks that must not reach the host, and from a
//! stopped container. Needs root.

mod up_support;

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use up_support::{stderr, Project};

fn compose_with_stdin(p: &Project, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["-p", &p.name])
        .args(args)
        .current_dir(&p.dir)
        .env("COMPOSE_ROOT", p.root.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn cp_copies_files_and_directories_both_ways() {
    let p = Project::new(
        "cp",
        "services:\n  web:\n    image: IMAGE\n    command: sleep 3600\n    scale: 2\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    let host = p.root.path().join("host");
    std::fs::create_dir_all(host.join("tree/sub")).unwrap();
    std::fs::write(host.join("hello.txt"), "hello\n").unwrap();
    std::fs::write(host.join("tree/sub/deep.txt"), "deep\n").unwrap();
    std::os::unix::fs::symlink("sub/deep.txt", host.join("tree/link")).unwrap();

    // In: a file into an existing directory, into every replica.
    let hello = host.join("hello.txt");
    p.ok(&["cp", hello.to_str().unwrap(), "web:/tmp"]);
    for n in ["1", "2"] {
        assert_eq!(
            p.ok(&["exec", "--index", n, "web", "cat", "/tmp/hello.txt"]),
            "hello\n"
        );
    }
    // A directory under a new name, into one replica; links stay links.
    let tree = host.join("tree");
    p.ok(&["cp", "--index", "2", tree.to_str().unwrap(), "web:/srv"]);
    assert_eq!(
        p.ok(&["exec", "--index", "2", "web", "cat", "/srv/link"]),
        "deep\n"
    );
    assert!(!p
        .compose(&["exec", "web", "test", "-e", "/srv"])
        .status
        .success());

    // Out: the image's file to a new local name, a directory into a dir.
    let out = p.root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let seed = out.join("seed-copy.txt");
    p.ok(&["cp", "web:/data/seed.txt", seed.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&seed).unwrap(), "from the image\n");
    p.ok(&["cp", "--index", "2", "web:/srv", out.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(out.join("srv/sub/deep.txt")).unwrap(),
        "deep\n"
    );
    assert_eq!(
        std::fs::read_link(out.join("srv/link")).unwrap(),
        std::path::PathBuf::from("sub/deep.txt")
    );
    // DIR/. copies the contents.
    let flat = out.join("flat");
    p.ok(&["cp", "--index", "2", "web:/srv/.", flat.to_str().unwrap()]);
    assert!(flat.join("sub/deep.txt").is_file());

    // Errors name the problem.
    let missing = p.compose(&["cp", "web:/nope", out.to_str().unwrap()]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("/nope"), "{}", stderr(&missing));
    let both = p.compose(&["cp", "web:/a", "web:/b"]);
    assert!(
        stderr(&both).contains("between services"),
        "{}",
        stderr(&both)
    );
    let nodir = p.compose(&["cp", hello.to_str().unwrap(), "web:/no/such/"]);
    assert!(!nodir.status.success());
    assert!(
        stderr(&nodir).contains("no such directory"),
        "{}",
        stderr(&nodir)
    );

    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn cp_streams_tar_archives_and_keeps_owners_with_archive() {
    let p = Project::new(
        "cptar",
        "services:\n  web:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    // A tar on stdin goes into a directory.
    let mut tar = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar);
        let mut h = tar::Header::new_gnu();
        h.set_size(6);
        h.set_mode(0o640);
        h.set_uid(1234);
        h.set_gid(4321);
        h.set_cksum();
        b.append_data(&mut h, "streamed.txt", &b"piped\n"[..])
            .unwrap();
        b.finish().unwrap();
    }
    let out = compose_with_stdin(&p, &["cp", "-a", "-", "web:/tmp"], &tar);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        p.ok(&["exec", "web", "cat", "/tmp/streamed.txt"]),
        "piped\n"
    );
    let ls = p.ok(&["exec", "web", "ls", "-ln", "/tmp/streamed.txt"]);
    let cols: Vec<&str> = ls.split_whitespace().collect();
    assert_eq!(
        (cols[0], cols[2], cols[3]),
        ("-rw-r-----", "1234", "4321"),
        "{ls}"
    );
    // Without -a the copy belongs to root.
    let plain = compose_with_stdin(&p, &["cp", "-", "web:/"], &tar);
    assert!(plain.status.success(), "{}", stderr(&plain));
    let ls = p.ok(&["exec", "web", "ls", "-ln", "/streamed.txt"]);
    assert_eq!(ls.split_whitespace().nth(2), Some("0"), "{ls}");
    // Out to stdout: a tar with the file as its top entry.
    let out = p.compose(&["cp", "web:/tmp/streamed.txt", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut archive = tar::Archive::new(&out.stdout[..]);
    let entries: Vec<(String, u64)> = archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.path().unwrap().display().to_string(),
                e.header().uid().unwrap(),
            )
        })
        .collect();
    assert_eq!(entries, [("streamed.txt".to_string(), 1234)]);
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn cp_resolves_symlinks_inside_the_container_only() {
    let p = Project::new(
        "cplinks",
        "services:\n  web:\n    image: IMAGE\n    command: sleep 3600\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    // Links that would leave the rootfs if resolved on the host.
    p.ok(&[
        "exec", "web", "sh", "-c",
        "ln -s ../../../../../../../../etc /tmp/up && ln -s /etc /tmp/abs && ln -s /etc/passwd /tmp/pw",
    ]);
    let marker = format!("compose-cp-escape-{}", p.name);
    let src = p.root.path().join(&marker);
    std::fs::write(&src, "inside\n").unwrap();
    for link in ["/tmp/up/", "/tmp/abs/"] {
        p.ok(&["cp", src.to_str().unwrap(), &format!("web:{link}")]);
    }
    assert!(
        !std::path::Path::new("/etc").join(&marker).exists(),
        "a copy reached the host's /etc"
    );
    assert_eq!(
        p.ok(&["exec", "web", "cat", &format!("/etc/{marker}")]),
        "inside\n"
    );
    // Reading through a link: the container's file, and only with -L is
    // the link itself followed.
    let out = p.root.path().join("pw");
    p.ok(&["cp", "-L", "web:/tmp/pw", out.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "root:x:0:0:root:/root:/bin/sh\n"
    );
    let link = p.root.path().join("pw-link");
    p.ok(&["cp", "web:/tmp/pw", link.to_str().unwrap()]);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}

#[test]
fn cp_works_on_a_stopped_container() {
    let p = Project::new(
        "cpstopped",
        "services:\n  web:\n    image: IMAGE\n    command: sh -c 'echo written > /tmp/state; exec sleep 3600'\n",
    );
    p.ok(&["up", "-d"]);
    let names = p.container_dirs();
    let pids = p.init_pids();
    p.logs_containing("");
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.ok(&["stop", "-t", "0"]);
    let out = p.root.path().join("state");
    p.ok(&["cp", "web:/tmp/state", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "written\n");
    let input = p.root.path().join("later.txt");
    std::fs::write(&input, "while stopped\n").unwrap();
    std::fs::set_permissions(&input, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    p.ok(&["cp", input.to_str().unwrap(), "web:/tmp/"]);
    // Nothing stays mounted on the host for it.
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mountinfo.contains(&*p.root.path().to_string_lossy()));
    p.ok(&["start"]);
    assert_eq!(
        p.ok(&["exec", "web", "cat", "/tmp/later.txt"]),
        "while stopped\n"
    );
    let back = p.root.path().join("back.txt");
    p.ok(&["cp", "web:/tmp/later.txt", back.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&back).unwrap().mode() & 0o777, 0o600);
    p.ok(&["down", "-t", "0"]);
    p.assert_nothing_left(&names, &pids);
}
