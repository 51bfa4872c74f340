//! The resolved healthcheck of a container: Compose's `healthcheck:`
//! over the image's `HEALTHCHECK`, field by field as Docker's engine
//! merges a container's check with its image's (an empty test or a zero
//! duration takes the image's), then Docker's defaults (interval 30s,
//! timeout 30s, retries 3, start period 0, start interval 5s). `NONE` or
//! `disable: true` means no check at all.

use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);

/// What a probe runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthTest {
    /// `["CMD", prog, args...]`: run directly.
    Cmd(Vec<String>),
    /// `["CMD-SHELL", line]` (or a string): run with `/bin/sh -c`.
    Shell(String),
}

impl HealthTest {
    /// The probe's argv.
    pub fn argv(&self) -> Vec<String> {
        match self {
            HealthTest::Cmd(args) => args.clone(),
            HealthTest::Shell(line) => vec!["/bin/sh".into(), "-c".into(), line.clone()],
        }
    }
}

/// A container's healthcheck with every default applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub test: HealthTest,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
    pub start_interval: Duration,
}

/// A check as written (Compose's `healthcheck:` or an image's
/// `HEALTHCHECK`): unset fields are `None`/empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthOverrides {
    /// Docker's form: `["CMD", ...]`, `["CMD-SHELL", line]`, `["NONE"]`;
    /// empty: inherit.
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    /// Compose's `disable: true` (same as `test: ["NONE"]`).
    pub disable: bool,
}

impl HealthOverrides {
    /// An image config's `Healthcheck` (`{"Test": [...], "Interval": ns,
    /// ...}`, durations in nanoseconds as Docker writes them).
    pub fn from_image(value: &serde_json::Value) -> HealthOverrides {
        let nanos = |key: &str| {
            value[key]
                .as_u64()
                .filter(|n| *n > 0)
                .map(Duration::from_nanos)
        };
        HealthOverrides {
            test: value["Test"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            interval: nanos("Interval"),
            timeout: nanos("Timeout"),
            retries: value["Retries"]
                .as_u64()
                .filter(|n| *n > 0)
                .map(|n| n.min(u32::MAX as u64) as u32),
            start_period: nanos("StartPeriod"),
            start_interval: nanos("StartInterval"),
            disable: false,
        }
    }

    /// `self` (the service's) over `image`'s: Docker's merge of a
    /// container's healthcheck with its image's, then the defaults.
    /// `None`: no check (none defined, `NONE`, `disable`, or a test that
    /// is neither CMD nor CMD-SHELL).
    pub fn resolve(&self, image: Option<&HealthOverrides>) -> Option<HealthCheck> {
        if self.disable {
            return None;
        }
        let empty = HealthOverrides::default();
        let image = image.unwrap_or(&empty);
        let test = if self.test.is_empty() {
            &image.test
        } else {
            &self.test
        };
        let test = match test.split_first()? {
            (kind, args) if kind == "CMD" && !args.is_empty() => HealthTest::Cmd(args.to_vec()),
            (kind, args) if kind == "CMD-SHELL" && !args.is_empty() => {
                HealthTest::Shell(args.join(" "))
            }
            _ => return None,
        };
        let pick = |own: Option<Duration>, img: Option<Duration>, default: Duration| {
            own.filter(|d| !d.is_zero())
                .or(img.filter(|d| !d.is_zero()))
                .unwrap_or(default)
        };
        Some(HealthCheck {
            test,
            interval: pick(self.interval, image.interval, DEFAULT_INTERVAL),
            timeout: pick(self.timeout, image.timeout, DEFAULT_TIMEOUT),
            retries: self
                .retries
                .filter(|r| *r > 0)
                .or(image.retries)
                .unwrap_or(DEFAULT_RETRIES),
            start_period: pick(self.start_period, image.start_period, Duration::ZERO),
            start_interval: pick(
                self.start_interval,
                image.start_interval,
                DEFAULT_START_INTERVAL,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_overrides_the_image_field_by_field_over_dockers_defaults() {
        let image = HealthOverrides::from_image(&serde_json::json!({
            "Test": ["CMD-SHELL", "curl -f localhost"],
            "Interval": 10_000_000_000u64,
            "Retries": 5,
        }));
        let own = HealthOverrides {
            timeout: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        let check = own.resolve(Some(&image)).unwrap();
        assert_eq!(check.test, HealthTest::Shell("curl -f localhost".into()));
        assert_eq!(check.interval, Duration::from_secs(10));
        assert_eq!(check.timeout, Duration::from_secs(2));
        assert_eq!(check.retries, 5);
        assert_eq!(check.start_period, Duration::ZERO);
        assert_eq!(check.start_interval, DEFAULT_START_INTERVAL);
        assert_eq!(
            check.test.argv(),
            ["/bin/sh", "-c", "curl -f localhost"].map(String::from)
        );
    }

    #[test]
    fn none_and_disable_turn_the_image_check_off() {
        let image = HealthOverrides {
            test: vec!["CMD".into(), "true".into()],
            ..Default::default()
        };
        let none = HealthOverrides {
            test: vec!["NONE".into()],
            ..Default::default()
        };
        assert_eq!(none.resolve(Some(&image)), None);
        let disabled = HealthOverrides {
            disable: true,
            ..Default::default()
        };
        assert_eq!(disabled.resolve(Some(&image)), None);
        assert_eq!(HealthOverrides::default().resolve(None), None);
        let inherited = HealthOverrides::default().resolve(Some(&image)).unwrap();
        assert_eq!(inherited.test, HealthTest::Cmd(vec!["true".into()]));
        assert_eq!(
            (inherited.interval, inherited.retries),
            (DEFAULT_INTERVAL, 3)
        );
    }
}
