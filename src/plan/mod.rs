//! Plans: the desired project against a snapshot of what exists, as an
//! ordered DAG of actions, each with a cause a user can read ("config
//! changed: environment.DB_HOST", "scaled 3→5"). Pure: no I/O, no clock. The
//! runtime's executor performs the steps and decides nothing; `--dry-run`
//! prints the plan instead (docker compose's reconcile/plan/executor split).

pub mod action;
mod diff;
pub mod down;
pub mod observed;
pub mod up;

pub use action::{Action, Cause, Condition, Plan, Step};
pub use down::{plan_down, DownOptions};
pub use observed::{Observed, ObservedContainer, Status};
pub use up::{container_name, plan_up, UpOptions};

#[cfg(test)]
mod tests;
