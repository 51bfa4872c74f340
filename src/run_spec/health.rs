//! A service's healthcheck as the runtime probes it: Compose's
//! `healthcheck:` (compose-go's `HealthCheckConfig`) over the image's
//! `HEALTHCHECK`, merged and defaulted by the runtime's Docker rules
//! (`HealthOverrides::resolve`).

use crate::model::duration::Duration;
use crate::model::healthcheck::HealthCheckConfig;
use crate::model::ServiceConfig;
use compose_runtime::image::oci::ImageConfig;
use compose_runtime::supervisor::health::{HealthCheck, HealthOverrides, HealthTest};

/// The check of `service` run from `image`, `None` when there is none.
pub fn healthcheck(service: &ServiceConfig, image: &ImageConfig) -> Option<HealthCheck> {
    let from_image = image
        .config
        .healthcheck
        .as_ref()
        .map(HealthOverrides::from_image);
    let own = service
        .healthcheck
        .as_ref()
        .map(overrides)
        .unwrap_or_default();
    let mut check = own.resolve(from_image.as_ref())?;
    // Docker runs CMD-SHELL with the image's `SHELL` when it has one
    // (the daemon's `getShell`), else `/bin/sh -c`.
    if let (HealthTest::Shell(line), Some(shell)) = (&check.test, &image.config.shell) {
        if !shell.is_empty() {
            let mut argv = shell.clone();
            argv.push(line.clone());
            check.test = HealthTest::Cmd(argv);
        }
    }
    Some(check)
}

fn overrides(config: &HealthCheckConfig) -> HealthOverrides {
    // A negative duration is refused by the loader; read it as unset.
    let std = |d: &Option<Duration>| d.filter(|d| d.0 > 0).map(|d| d.as_std());
    HealthOverrides {
        test: config.test.clone(),
        interval: std(&config.interval),
        timeout: std(&config.timeout),
        retries: config.retries.map(|r| r.min(u32::MAX as u64) as u32),
        start_period: std(&config.start_period),
        start_interval: std(&config.start_interval),
        disable: config.disable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_with_check() -> ImageConfig {
        serde_json::from_value(serde_json::json!({
            "rootfs": {"type": "layers", "diff_ids": []},
            "config": {"Healthcheck": {"Test": ["CMD", "probe"], "Interval": 2_000_000_000u64}}
        }))
        .unwrap()
    }

    #[test]
    fn the_service_check_overrides_the_images_and_disable_removes_it() {
        let mut service = ServiceConfig::default();
        let image = image_with_check();
        let inherited = healthcheck(&service, &image).unwrap();
        assert_eq!(inherited.test, HealthTest::Cmd(vec!["probe".into()]));
        assert_eq!(inherited.interval, std::time::Duration::from_secs(2));
        service.healthcheck = Some(HealthCheckConfig {
            test: vec!["CMD-SHELL".into(), "test -f /ready".into()],
            retries: Some(7),
            ..Default::default()
        });
        let own = healthcheck(&service, &image).unwrap();
        assert_eq!(own.test, HealthTest::Shell("test -f /ready".into()));
        assert_eq!((own.interval.as_secs(), own.retries), (2, 7));
        service.healthcheck.as_mut().unwrap().disable = true;
        assert_eq!(healthcheck(&service, &image), None);
        assert_eq!(healthcheck(&service, &ImageConfig::default()), None);
    }

    #[test]
    fn cmd_shell_runs_with_the_images_shell() {
        let mut image = image_with_check();
        image.config.shell = Some(vec!["/bin/bash".into(), "-ec".into()]);
        let service = ServiceConfig {
            healthcheck: Some(HealthCheckConfig {
                test: vec!["CMD-SHELL".into(), "true".into()],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            healthcheck(&service, &image).unwrap().test.argv(),
            ["/bin/bash", "-ec", "true"].map(String::from)
        );
    }
}
