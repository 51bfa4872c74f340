//! `post_start` and `pre_stop` as the runtime runs them (exec'd in the
//! container). `pre_start` one-shot containers and `privileged` hooks are
//! not run by the bundled runtime yet: noted.

use super::Note;
use crate::model::hooks::ServiceHook;
use crate::model::ServiceConfig;
use compose_runtime::project::hooks::{Hook, Hooks};

pub fn hooks(service: &ServiceConfig, notes: &mut Vec<Note>) -> Hooks {
    if !service.pre_start.is_empty() {
        notes.push(Note::Ignored {
            field: "pre_start".into(),
        });
    }
    let mut convert = |kind: &str, list: &[ServiceHook]| -> Vec<Hook> {
        list.iter()
            .map(|h| {
                if h.privileged {
                    notes.push(Note::Ignored {
                        field: format!(
                            "{kind}.privileged (hooks run with the container's privileges)"
                        ),
                    });
                }
                Hook {
                    command: h.command.clone().unwrap_or_default(),
                    user: h.user.clone(),
                    working_dir: h.working_dir.clone(),
                    environment: h
                        .environment
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("")))
                        .collect(),
                }
            })
            .collect()
    };
    Hooks {
        post_start: convert("post_start", &service.post_start),
        pre_stop: convert("pre_stop", &service.pre_stop),
    }
}
