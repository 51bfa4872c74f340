//! ONBUILD in the build loop (Dockerfile reference, "ONBUILD"): the
//! triggers a stage's base carries in its config's `OnBuild` are parsed
//! (`dockerfile::parse_trigger`), taken out of the config (they are not
//! inherited further), and run first as the stage's own steps; the stages
//! they copy from are built before, as BuildKit re-plans with them.

use super::driver::Ctx;
use super::error::ExecError;
use crate::build::dockerfile::{self, Command, Copy, Instruction};
use crate::build::expand::{BuildInputs, GlobalScope};
use crate::build::plan::plan;
use crate::build::BuildError;
use crate::image::oci::ImageConfig;

impl Ctx<'_, '_> {
    /// Take the base's triggers out of `config`, parsed; `line` is the
    /// FROM that inherits them.
    pub(super) fn triggers(
        &self,
        config: &mut ImageConfig,
        line: usize,
    ) -> Result<Vec<Instruction>, ExecError> {
        let triggers = std::mem::take(&mut config.config.on_build);
        let parsed = triggers
            .iter()
            .map(|t| dockerfile::parse_trigger(&self.df.file, line, t))
            .collect::<Result<_, _>>()
            .map_err(BuildError::from)?;
        Ok(parsed)
    }

    /// Build the stages the base's triggers copy from (`COPY --from`)
    /// that the plan, made before the base was known, left out: BuildKit
    /// re-plans with the triggers' dependencies the same way.
    pub(super) fn trigger_deps(
        &mut self,
        triggers: &[Instruction],
        global: &GlobalScope,
        inputs: &BuildInputs,
    ) -> Result<(), ExecError> {
        let df = self.df;
        for ins in triggers {
            let Command::Copy(Copy {
                from: Some(from), ..
            }) = &ins.command
            else {
                continue;
            };
            let lower = from.to_ascii_lowercase();
            let index = from.parse::<usize>().ok().or_else(|| {
                df.stages
                    .iter()
                    .position(|s| s.name() == Some(lower.as_str()))
            });
            let Some(index) = index.filter(|i| *i < df.stages.len()) else {
                continue; // an image
            };
            if self.results.contains_key(&index) {
                continue;
            }
            let at = self.at(ins.line);
            let not_built = || ExecError::StageNotBuilt {
                at: at.clone(),
                from: from.clone(),
            };
            let Some(name) = df.stages[index].name() else {
                return Err(not_built());
            };
            let sub = plan(df, inputs, Some(name)).map_err(BuildError::from)?;
            for s in &sub.stages {
                if self.results.contains_key(&s.index) {
                    continue;
                }
                if self.building.contains(&s.index) {
                    return Err(not_built());
                }
                let result = self.stage(s, global, inputs)?;
                self.results.insert(s.index, result);
            }
        }
        Ok(())
    }
}
