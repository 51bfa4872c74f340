//! The Dockerfile parser: text to a typed [`Dockerfile`] (directives,
//! global ARGs, stages of instructions with line numbers), as BuildKit's
//! `dockerfile` frontend reads it (reference: docs.docker.com "Dockerfile
//! reference"). Values are not expanded here; see `build::expand`.

mod ast;
mod error;
mod flags;
mod instr;
mod lines;
mod words;

pub use ast::*;
pub use error::{Location, ParseError};
pub use flags::parse_go_duration;
pub use lines::heredoc_marker;
pub use words::split_words;

use std::path::Path;

/// Parse the Dockerfile text `text`; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Dockerfile, ParseError> {
    let (directives, lines) = lines::logical_lines(file, text)?;
    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for line in lines {
        let ins = instr::instruction(file, line, directives.escape)?;
        match (ins.command, stages.last_mut()) {
            (Command::From(from), _) => stages.push(Stage {
                line: ins.line,
                from,
                instructions: Vec::new(),
            }),
            (command, Some(stage)) => stage.instructions.push(Instruction { command, ..ins }),
            (command @ Command::Arg(_), None) => global_args.push(Instruction { command, ..ins }),
            (command, None) => {
                return Err(ParseError::BeforeFrom {
                    at: Location {
                        file: file.to_string(),
                        line: ins.line,
                    },
                    instruction: command.keyword(),
                })
            }
        }
    }
    if stages.is_empty() {
        return Err(ParseError::NoStages {
            at: Location {
                file: file.to_string(),
                line: text.lines().count().max(1),
            },
        });
    }
    Ok(Dockerfile {
        file: file.to_string(),
        directives,
        global_args,
        stages,
    })
}

/// Parse one `ONBUILD` trigger of a base image (its config's `OnBuild`
/// entry, the instruction as written after the keyword); `file` and `line`
/// name the FROM that inherits it. Docker refuses the same instructions in
/// a trigger as after ONBUILD: ONBUILD, FROM and MAINTAINER.
pub fn parse_trigger(file: &str, line: usize, text: &str) -> Result<Instruction, ParseError> {
    let at = Location {
        file: file.to_string(),
        line,
    };
    // A trigger with heredocs holds their bodies on the lines after it
    // (see [`trigger_text`]); read it as one logical line of a file.
    let (_, mut logical) = lines::logical_lines(file, text)?;
    if logical.len() != 1 {
        return Err(ParseError::BadTrigger {
            at,
            text: text.to_string(),
        });
    }
    let mut logical = logical.remove(0);
    (logical.line, logical.end_line) = (line, line);
    let ins = instr::instruction(file, logical, '\\')?;
    if let Command::Onbuild(_) | Command::From(_) | Command::Maintainer(_) = ins.command {
        return Err(ParseError::BadOnbuild {
            at,
            inner: ins.command.keyword(),
        });
    }
    Ok(ins)
}

/// The text `ONBUILD` records for `inner` in the image's `OnBuild`: the
/// instruction as written, then each heredoc body and its delimiter, so
/// that [`parse_trigger`] reads the same instruction back.
pub fn trigger_text(inner: &Instruction) -> String {
    let heredocs: &[Heredoc] = match &inner.command {
        Command::Run(r) => &r.heredocs,
        Command::Copy(c) | Command::Add(c) => &c.heredocs,
        _ => &[],
    };
    let mut text = inner.source.clone();
    for doc in heredocs {
        text.push('\n');
        text.push_str(&doc.content);
        text.push_str(&doc.name);
    }
    text
}

/// Read and parse the Dockerfile at `path`.
pub fn parse_file(path: &Path) -> Result<Dockerfile, ParseError> {
    let text = std::fs::read_to_string(path).map_err(|source| ParseError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&path.display().to_string(), &text)
}

#[cfg(test)]
mod tests;
