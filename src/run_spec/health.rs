//! A service's healthcheck as the runtime probes it: Compose's
//! `healthcheck:` (compose-go's `HealthCheckConfig`) over the image's
//! `HEALTHCHECK`, merged and defaulted by the runtime's Docker rules
//! (`HealthOverrides::resolve`).

use crate::model::duration::Duration;
use crate::model::healthcheck::HealthCheckConfig;
use crate::model::ServiceConfig;
use compose_runtime::image::oci::ImageConfig;
use compose_runtime::supervisor::health::{HealthCheck, HealthOverrides};

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
    own.resolve(from_image.as_ref())
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
    use compose_runtime::supervisor::health::HealthTest;

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
}
