//! What runs beside a project's containers in its supervisor: each
//! container's DNS server and the proxies of its published ports. The
//! executor calls these hooks around container starts and stops so that
//! names resolve and ports answer as soon as a step is done.

use super::{ContainerRecord, ProjectError};

pub trait Services: Sync {
    /// Before `record`'s container starts: its published ports listen (a
    /// port in use fails the start, before anything runs).
    fn publish(&self, record: &ContainerRecord) -> Result<(), ProjectError>;
    /// After `record`'s container joined its networks (its namespace
    /// exists), before its workload runs: its DNS server listens inside
    /// that namespace, so the first lookup is answered.
    fn joined(&self, _record: &ContainerRecord) -> Result<(), ProjectError> {
        Ok(())
    }
    /// After a container started, stopped or was removed: DNS answers and
    /// proxy backends follow what runs now.
    fn refresh(&self);
}

/// No DNS, no proxies (tests of the executor; commands that only stop).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoServices;

impl Services for NoServices {
    fn publish(&self, _: &ContainerRecord) -> Result<(), ProjectError> {
        Ok(())
    }

    fn refresh(&self) {}
}
