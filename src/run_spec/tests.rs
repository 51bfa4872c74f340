use super::*;
use crate::model::deploy::{Resource, Resources as DeployResources};
use crate::model::mounts::{ServiceVolumeBind, ServiceVolumeVolume};
use crate::model::types::Ulimit;
use crate::model::{DeployConfig, Duration, ServiceVolumeConfig, UnitBytes};
use compose_runtime::container::spec::SeccompMode;

fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageConfig {
    let mut config: ImageConfig = serde_json::from_value(serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin", "LANG=C"], "WorkingDir": "/app", "User": "1000"},
        "rootfs": {"type": "layers", "diff_ids": []}
    }))
    .unwrap();
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect();
    config.config.entrypoint = entrypoint.map(words);
    config.config.cmd = cmd.map(words);
    config
}

struct Fixture {
    image: ImageConfig,
    volumes: IndexMap<String, VolumeConfig>,
    from: BTreeMap<String, Vec<Mount>>,
    networks: IndexMap<String, NetworkConfig>,
    first: BTreeMap<String, String>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            image: image(None, Some(&["sh"])),
            volumes: IndexMap::new(),
            from: BTreeMap::new(),
            networks: IndexMap::new(),
            first: BTreeMap::from([("db".to_string(), "p-db-1".to_string())]),
        }
    }
    fn build(&self, service: &ServiceConfig) -> Result<RunSpec, RunSpecError> {
        let ctx = Context {
            project: "p",
            container_name: "p-web-1",
            container_id: "0123456789abcdef0123",
            image: &self.image,
            lower_dirs: vec!["/layers/a".into()],
            volume_root: Path::new("/root/volumes"),
            volumes: &self.volumes,
            volumes_from: &self.from,
            compose_root: Path::new("/root"),
            networks: &self.networks,
            first_containers: &self.first,
        };
        build(service, &ctx)
    }
}

fn web() -> ServiceConfig {
    ServiceConfig {
        name: "web".into(),
        image: "busybox".into(),
        ..Default::default()
    }
}

fn words(w: &[&str]) -> Option<Vec<String>> {
    Some(w.iter().map(|s| s.to_string()).collect())
}

#[test]
fn argv_follows_the_engines_merge_of_entrypoint_and_cmd() {
    let img = image(Some(&["/entry"]), Some(&["serve", "--port=1"]));
    let args = |ep: Option<Vec<String>>, cmd: Option<Vec<String>>| {
        let s = ServiceConfig {
            entrypoint: ep,
            command: cmd,
            ..web()
        };
        process::args(&s, &img).join(" ")
    };
    assert_eq!(args(None, None), "/entry serve --port=1");
    assert_eq!(args(None, words(&["run"])), "/entry run");
    // An explicit entrypoint drops the image's CMD.
    assert_eq!(args(words(&["/other"]), None), "/other");
    assert_eq!(args(words(&["/other"]), words(&["x"])), "/other x");
    // `entrypoint: []` clears the entrypoint; CMD still applies.
    assert_eq!(args(Some(vec![]), None), "serve --port=1");
    // `command: []` falls back to the image's CMD, as the engine does.
    assert_eq!(args(None, Some(vec![])), "/entry serve --port=1");
}

#[test]
fn environment_overrides_the_images_in_place_and_unset_keys_are_left_out() {
    let mut s = web();
    s.environment.insert("LANG".into(), Some("de".into()));
    s.environment.insert("NEW".into(), Some("1".into()));
    s.environment.insert("UNSET".into(), None);
    let run = Fixture::new().build(&s).unwrap();
    assert_eq!(
        run.spec.process.env,
        ["PATH=/usr/bin:/bin", "LANG=de", "NEW=1"]
    );
}

#[test]
fn path_defaults_to_dockers_when_the_image_has_none() {
    let mut fx = Fixture::new();
    fx.image.config.env.clear();
    let run = fx.build(&web()).unwrap();
    assert_eq!(
        run.spec.process.env,
        [format!(
            "PATH={}",
            compose_runtime::container::spec::DEFAULT_PATH
        )]
    );
}

#[test]
fn working_dir_and_user_come_from_the_service_else_the_image() {
    let fx = Fixture::new();
    let run = fx.build(&web()).unwrap();
    assert_eq!(run.spec.process.cwd, "/app");
    assert_eq!(run.spec.process.user, "1000");
    let s = ServiceConfig {
        working_dir: "/srv".into(),
        user: "app:staff".into(),
        group_add: vec!["audio".into()],
        tty: true,
        ..web()
    };
    let run = fx.build(&s).unwrap();
    assert_eq!(run.spec.process.cwd, "/srv");
    assert_eq!(run.spec.process.user, "app:staff");
    assert_eq!(run.spec.process.additional_groups, ["audio"]);
    assert!(run.spec.process.tty);
}

#[test]
fn hostname_defaults_to_the_short_container_id_and_domainname_is_set() {
    let fx = Fixture::new();
    let plain = fx.build(&web()).unwrap();
    assert_eq!(plain.spec.hostname, "0123456789ab");
    assert_eq!(plain.spec.domainname, "");
    let s = ServiceConfig {
        hostname: "db".into(),
        domainname: "example.com".into(),
        ..web()
    };
    let run = fx.build(&s).unwrap();
    assert_eq!(run.spec.hostname, "db");
    assert_eq!(run.spec.domainname, "example.com");
    assert!(run.notes.iter().all(|n| !matches!(n, Note::Ignored { .. })));
}

#[test]
fn stop_signal_and_grace_period_default_like_docker() {
    let mut fx = Fixture::new();
    let run = fx.build(&web()).unwrap();
    assert_eq!(run.stop_signal, "SIGTERM");
    assert_eq!(run.stop_grace_period, DEFAULT_STOP_GRACE);
    fx.image.config.stop_signal = Some("SIGQUIT".into());
    assert_eq!(fx.build(&web()).unwrap().stop_signal, "SIGQUIT");
    let s = ServiceConfig {
        stop_signal: "SIGUSR1".into(),
        stop_grace_period: Some(Duration::from_secs(3)),
        ..web()
    };
    let run = fx.build(&s).unwrap();
    assert_eq!(run.stop_signal, "SIGUSR1");
    assert_eq!(run.stop_grace_period, std::time::Duration::from_secs(3));
}

#[test]
fn extra_hosts_and_dns_write_the_etc_files() {
    let mut s = web();
    s.extra_hosts.0.insert("db".into(), vec!["10.0.0.2".into()]);
    s.dns = vec!["1.1.1.1".into()];
    s.dns_search = vec!["lan".into()];
    let run = Fixture::new().build(&s).unwrap();
    assert!(run.spec.etc.hosts.starts_with("127.0.0.1\tlocalhost\n"));
    assert!(run.spec.etc.hosts.ends_with("10.0.0.2\tdb\n"));
    assert_eq!(run.spec.etc.resolv_conf, "nameserver 1.1.1.1\nsearch lan\n");
    let plain = Fixture::new().build(&web()).unwrap();
    assert_eq!(plain.spec.etc, Default::default());
}

#[test]
fn resources_map_to_cgroup_limits_and_deploy_limits_win() {
    let mut s = ServiceConfig {
        mem_limit: UnitBytes(64 << 20),
        memswap_limit: UnitBytes(-1),
        cpus: 1.5,
        cpu_shares: 512,
        cpuset: "0".into(),
        pids_limit: 100,
        ..web()
    };
    let r = limits::resources(&s);
    assert_eq!(r.memory, Some(64 << 20));
    assert_eq!(r.memory_swap, Some(-1));
    assert_eq!((r.cpu_quota, r.cpu_period), (Some(150_000), Some(100_000)));
    assert_eq!(r.cpu_shares, Some(512));
    assert_eq!(r.cpuset_cpus.as_deref(), Some("0"));
    assert_eq!(r.pids_limit, Some(100));
    s.deploy = Some(DeployConfig {
        resources: DeployResources {
            limits: Some(Resource {
                cpus: 0.5,
                memory: UnitBytes(32 << 20),
                pids: 10,
                ..Default::default()
            }),
            reservations: Some(Resource {
                memory: UnitBytes(16 << 20),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    });
    let r = limits::resources(&s);
    assert_eq!(r.memory, Some(32 << 20));
    assert_eq!(r.memory_reservation, Some(16 << 20));
    assert_eq!(r.cpu_quota, Some(50_000));
    assert_eq!(r.pids_limit, Some(10));
    assert_eq!(limits::resources(&web()), Default::default());
}

#[test]
fn security_settings_and_options() {
    let s = ServiceConfig {
        privileged: true,
        cap_add: vec!["NET_ADMIN".into()],
        cap_drop: vec!["ALL".into()],
        security_opt: vec![
            "seccomp=unconfined".into(),
            "no-new-privileges:true".into(),
            "apparmor=unconfined".into(),
        ],
        read_only: true,
        shm_size: UnitBytes(1 << 20),
        ..web()
    };
    let run = Fixture::new().build(&s).unwrap();
    let sec = &run.spec.security;
    assert!(sec.privileged);
    assert_eq!(sec.cap_add, ["NET_ADMIN"]);
    assert_eq!(sec.cap_drop, ["ALL"]);
    assert_eq!(sec.seccomp, SeccompMode::Unconfined);
    assert!(run.spec.process.no_new_privileges);
    assert!(run.spec.rootfs.read_only);
    assert_eq!(run.spec.shm_size, 1 << 20);
    assert!(run.notes.contains(&Note::Ignored {
        field: "security_opt: apparmor=unconfined".into()
    }));
    let bad = ServiceConfig {
        security_opt: vec!["bogus".into()],
        ..web()
    };
    let err = Fixture::new().build(&bad).unwrap_err();
    assert!(
        err.to_string().starts_with("services.web.security_opt[0]:"),
        "{err}"
    );
}

#[test]
fn ulimits_sysctls_and_devices() {
    let mut s = web();
    s.ulimits.insert(
        "nofile".into(),
        Ulimit::Range {
            soft: 1024,
            hard: 2048,
        },
    );
    s.ulimits.insert("memlock".into(), Ulimit::Single(-1));
    s.sysctls.insert("net.core.somaxconn".into(), "1024".into());
    s.devices.push(crate::model::service::DeviceMapping {
        source: "/dev/fuse".into(),
        ..Default::default()
    });
    let run = Fixture::new().build(&s).unwrap();
    let rl = &run.spec.process.rlimits;
    assert_eq!(
        (rl[0].name.as_str(), rl[0].soft, rl[0].hard),
        ("nofile", 1024, 2048)
    );
    assert_eq!((rl[1].soft, rl[1].hard), (u64::MAX, u64::MAX));
    assert_eq!(run.spec.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(run.spec.devices[0].container_path, "/dev/fuse");
    assert_eq!(run.spec.devices[0].permissions, "rwm");
}

fn vol(kind: &str, source: &str, target: &str) -> ServiceVolumeConfig {
    ServiceVolumeConfig {
        kind: kind.into(),
        source: source.into(),
        target: target.into(),
        ..Default::default()
    }
}

#[test]
fn binds_create_their_source_unless_told_not_to() {
    let mut s = web();
    s.volumes.push(vol("bind", "/src", "/app"));
    let mut strict = vol("bind", "/data", "/data");
    strict.bind = Some(ServiceVolumeBind {
        create_host_path: false,
        ..Default::default()
    });
    strict.read_only = true;
    s.volumes.push(strict);
    let run = Fixture::new().build(&s).unwrap();
    assert_eq!(run.host_dirs, [PathBuf::from("/src")]);
    assert_eq!(
        run.spec.mounts[1],
        Mount::Bind {
            source: "/data".into(),
            target: "/data".into(),
            read_only: true
        }
    );
    let mut rel = web();
    rel.volumes.push(vol("bind", "./src", "/app"));
    assert!(matches!(
        Fixture::new().build(&rel),
        Err(RunSpecError::RelativeBind { .. })
    ));
}

#[test]
fn named_volumes_live_under_the_volume_root_and_are_seeded() {
    let mut fx = Fixture::new();
    fx.volumes.insert(
        "data".into(),
        VolumeConfig {
            name: "p_data".into(),
            ..Default::default()
        },
    );
    let mut s = web();
    s.volumes.push(vol("volume", "data", "/var/lib/db"));
    let mut nocopy = vol("volume", "data", "/other");
    nocopy.volume = Some(ServiceVolumeVolume {
        nocopy: true,
        ..Default::default()
    });
    s.volumes.push(nocopy);
    let run = fx.build(&s).unwrap();
    assert_eq!(run.volumes[0].name, "p_data");
    assert_eq!(
        run.volumes[0].data_dir,
        PathBuf::from("/root/volumes/p_data/_data")
    );
    assert_eq!(run.volumes[0].seed_from.as_deref(), Some("/var/lib/db"));
    assert_eq!(run.volumes[1].seed_from, None);
    let mut unknown = web();
    unknown.volumes.push(vol("volume", "nope", "/x"));
    assert!(matches!(
        fx.build(&unknown),
        Err(RunSpecError::UnknownVolume { .. })
    ));
}

#[test]
fn anonymous_and_image_volumes_are_stable_per_container_and_target() {
    let mut fx = Fixture::new();
    fx.image
        .config
        .volumes
        .insert("/cache".into(), serde_json::json!({}));
    let mut s = web();
    s.volumes.push(vol("volume", "", "/scratch"));
    let run = fx.build(&s).unwrap();
    assert_eq!(run.volumes.len(), 2);
    assert!(run.volumes.iter().all(|v| v.anonymous));
    assert!(run.volumes[0].name.starts_with("p-web-1_anon_"));
    assert_ne!(run.volumes[0].name, run.volumes[1].name);
    assert_eq!(fx.build(&s).unwrap().volumes, run.volumes);
    // A mount at the image's VOLUME path replaces the anonymous volume.
    s.volumes.push(vol("bind", "/host", "/cache"));
    assert_eq!(fx.build(&s).unwrap().volumes.len(), 1);
}

#[test]
fn tmpfs_entries_read_size_and_mode() {
    let mut s = web();
    s.tmpfs = vec!["/run:size=64m,mode=1777,noexec".into(), "/tmp".into()];
    let mut t = vol("tmpfs", "", "/cache");
    t.tmpfs = Some(crate::model::mounts::ServiceVolumeTmpfs {
        size: UnitBytes(4096),
        ..Default::default()
    });
    s.volumes.push(t);
    let run = Fixture::new().build(&s).unwrap();
    assert_eq!(
        run.spec.mounts,
        [
            Mount::Tmpfs {
                target: "/cache".into(),
                size: Some(4096),
                mode: None
            },
            Mount::Tmpfs {
                target: "/run".into(),
                size: Some(64 << 20),
                mode: Some(0o1777)
            },
            Mount::Tmpfs {
                target: "/tmp".into(),
                size: None,
                mode: None
            },
        ]
    );
    s.tmpfs = vec!["/x:mode=99z".into()];
    assert!(matches!(
        Fixture::new().build(&s),
        Err(RunSpecError::Tmpfs { .. })
    ));
}

#[test]
fn volumes_from_copies_binds_and_honours_ro() {
    let mut fx = Fixture::new();
    fx.from.insert(
        "db".into(),
        vec![Mount::Bind {
            source: "/v/_data".into(),
            target: "/data".into(),
            read_only: false,
        }],
    );
    let mut s = web();
    s.volumes_from = vec!["db:ro".into()];
    let run = fx.build(&s).unwrap();
    assert_eq!(
        run.spec.mounts,
        [Mount::Bind {
            source: "/v/_data".into(),
            target: "/data".into(),
            read_only: true
        }]
    );
    s.volumes_from = vec!["container:gone".into()];
    assert!(matches!(
        fx.build(&s),
        Err(RunSpecError::VolumesFrom { .. })
    ));
}

fn port(target: u32, published: &str, protocol: &str) -> crate::model::ServicePortConfig {
    crate::model::ServicePortConfig {
        target,
        published: published.into(),
        protocol: protocol.into(),
        ..Default::default()
    }
}

#[test]
fn network_modes_host_none_service_and_container() {
    use compose_runtime::container::spec::NetworkMode;
    let fx = Fixture::new();
    let host = ServiceConfig {
        network_mode: "host".into(),
        ports: vec![port(80, "8080", "tcp")],
        ..web()
    };
    let run = fx.build(&host).unwrap();
    assert_eq!(run.spec.network, NetworkMode::Host);
    assert!(run.networking.attachments.is_empty());
    assert!(run.networking.ports.is_empty());
    assert_eq!(
        run.notes,
        [Note::PortsDiscarded {
            mode: "host".into()
        }]
    );
    let none = ServiceConfig {
        network_mode: "none".into(),
        ..web()
    };
    let run = fx.build(&none).unwrap();
    assert_eq!(run.spec.network, NetworkMode::Loopback);
    assert!(run.networking.attachments.is_empty());
    let service = ServiceConfig {
        network_mode: "service:db".into(),
        ..web()
    };
    assert_eq!(
        fx.build(&service).unwrap().spec.network,
        NetworkMode::Join {
            path: "/root/netns/p-db-1".into()
        }
    );
    let container = ServiceConfig {
        network_mode: "container:other".into(),
        ..web()
    };
    assert_eq!(
        fx.build(&container).unwrap().spec.network,
        NetworkMode::Join {
            path: "/root/netns/other".into()
        }
    );
    for bad in ["service:nope", "macvlan"] {
        let s = ServiceConfig {
            network_mode: bad.into(),
            ..web()
        };
        assert!(
            matches!(fx.build(&s), Err(RunSpecError::NetworkMode { .. })),
            "{bad}"
        );
    }
}

#[test]
fn networks_are_ordered_by_priority_and_carry_aliases_and_addresses() {
    use crate::model::service::ServiceNetworkConfig;
    let mut fx = Fixture::new();
    for key in ["front", "back"] {
        fx.networks.insert(
            key.into(),
            NetworkConfig {
                name: format!("p_{key}"),
                ..Default::default()
            },
        );
    }
    let mut s = web();
    s.networks.insert("back".into(), None);
    s.networks.insert(
        "front".into(),
        Some(ServiceNetworkConfig {
            aliases: vec!["www".into()],
            ipv4_address: "10.9.0.5".into(),
            priority: 10,
            gateway_priority: 3,
            ..Default::default()
        }),
    );
    s.mac_address = "02:42:ac:11:00:02".into();
    let run = fx.build(&s).unwrap();
    let atts = &run.networking.attachments;
    assert_eq!(
        atts.iter().map(|a| a.network.as_str()).collect::<Vec<_>>(),
        ["p_front", "p_back"]
    );
    assert_eq!(atts[0].container, "p-web-1");
    assert_eq!(atts[0].aliases, ["www"]);
    assert_eq!(atts[0].ipv4_address, Some("10.9.0.5".parse().unwrap()));
    assert_eq!(atts[0].priority, 3);
    assert_eq!(atts[0].mac_address.as_deref(), Some("02:42:ac:11:00:02"));
    assert_eq!(atts[1].mac_address, None);

    // No `networks:`: the project's default network.
    let run = fx.build(&web()).unwrap();
    assert_eq!(run.networking.attachments[0].network, "p_default");

    s.networks.insert(
        "back".into(),
        Some(ServiceNetworkConfig {
            ipv4_address: "10.9.0".into(),
            ..Default::default()
        }),
    );
    let err = fx.build(&s).unwrap_err().to_string();
    assert_eq!(
        err,
        "services.web.networks.back.ipv4_address: \"10.9.0\" is not an IPv4 address"
    );
}

#[test]
fn ports_links_exposed_and_dns_become_record_data() {
    use compose_runtime::network::{ExposedPort, Link, Protocol, PublishedPort};
    let mut fx = Fixture::new();
    fx.image
        .config
        .exposed_ports
        .insert("9000/tcp".into(), serde_json::json!({}));
    let s = ServiceConfig {
        ports: vec![
            port(80, "8080", "tcp"),
            crate::model::ServicePortConfig {
                host_ip: "127.0.0.1".into(),
                ..port(53, "", "udp")
            },
            port(81, "8000-8010", "tcp"),
        ],
        expose: vec!["3000-3001".into(), "7/udp".into()],
        links: vec!["db".into(), "db:database".into()],
        dns: vec!["9.9.9.9".into()],
        dns_search: vec!["corp".into()],
        ..web()
    };
    let run = fx.build(&s).unwrap();
    let net = &run.networking;
    assert_eq!(
        net.ports,
        [
            PublishedPort {
                host_ip: None,
                host_ports: Some((8080, 8080)),
                container_port: 80,
                protocol: Protocol::Tcp
            },
            PublishedPort {
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_ports: None,
                container_port: 53,
                protocol: Protocol::Udp
            },
            PublishedPort {
                host_ip: None,
                host_ports: Some((8000, 8010)),
                container_port: 81,
                protocol: Protocol::Tcp
            },
        ]
    );
    let tcp = |port| ExposedPort {
        port,
        protocol: Protocol::Tcp,
    };
    let udp = |port| ExposedPort {
        port,
        protocol: Protocol::Udp,
    };
    assert_eq!(
        net.exposed,
        [
            udp(7),
            udp(53),
            tcp(80),
            tcp(81),
            tcp(3000),
            tcp(3001),
            tcp(9000)
        ]
    );
    assert_eq!(
        net.links,
        [
            Link {
                container: "p-db-1".into(),
                alias: "db".into()
            },
            Link {
                container: "p-db-1".into(),
                alias: "database".into()
            }
        ]
    );
    assert_eq!(net.dns.servers, ["9.9.9.9"]);
    assert_eq!(net.dns.search, ["corp"]);

    let sctp = ServiceConfig {
        ports: vec![port(80, "80", "sctp")],
        ..web()
    };
    assert_eq!(
        fx.build(&sctp).unwrap_err().to_string(),
        "services.web.ports[0]: protocol \"sctp\" is not supported (tcp or udp)"
    );
}

#[test]
fn top_level_networks_become_bridge_specs() {
    use crate::model::resources::{IpamConfig, IpamPool};
    let config = NetworkConfig {
        name: "p_back".into(),
        internal: true,
        driver_opts: [
            (
                "com.docker.network.bridge.name".to_string(),
                "br-back".to_string(),
            ),
            (
                "com.docker.network.driver.mtu".to_string(),
                "1400".to_string(),
            ),
        ]
        .into_iter()
        .collect(),
        ipam: IpamConfig {
            config: vec![
                IpamPool {
                    subnet: "10.7.0.0/16".into(),
                    gateway: "10.7.0.254".into(),
                    ip_range: "10.7.1.0/24".into(),
                    auxiliary_addresses: [("printer".to_string(), "10.7.1.5".to_string())]
                        .into_iter()
                        .collect(),
                    ..Default::default()
                },
                IpamPool {
                    subnet: "fd00:7::/64".into(),
                    gateway: "fd00:7::fe".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        },
        enable_ipv6: Some(true),
        ..Default::default()
    };
    let mut notes = Vec::new();
    let spec = network::network_spec("back", &config, &mut notes).unwrap();
    assert_eq!(spec.name, "p_back");
    assert!(spec.internal);
    assert_eq!(spec.bridge_name.as_deref(), Some("br-back"));
    assert_eq!(spec.mtu, Some(1400));
    assert_eq!(spec.subnet, Some("10.7.0.0/16".parse().unwrap()));
    assert_eq!(spec.gateway, Some("10.7.0.254".parse().unwrap()));
    assert_eq!(spec.ip_range, Some("10.7.1.0/24".parse().unwrap()));
    assert_eq!(
        spec.aux_addresses["printer"],
        "10.7.1.5".parse::<std::net::Ipv4Addr>().unwrap()
    );
    assert!(spec.ipv6);
    assert_eq!(spec.subnet6, Some("fd00:7::/64".parse().unwrap()));
    assert_eq!(spec.gateway6, Some("fd00:7::fe".parse().unwrap()));
    assert!(notes.is_empty(), "{notes:?}");
    spec.validate().unwrap();
    let mut no_v6 = config.clone();
    no_v6.enable_ipv6 = None;
    let err = network::network_spec("back", &no_v6, &mut notes).unwrap_err();
    assert!(
        err.to_string().contains("needs `enable_ipv6: true`"),
        "{err}"
    );

    let overlay = NetworkConfig {
        driver: "overlay".into(),
        ..Default::default()
    };
    let err = network::network_spec("x", &overlay, &mut notes).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("networks.x.driver: driver \"overlay\" is not supported"),
        "{err}"
    );
}
