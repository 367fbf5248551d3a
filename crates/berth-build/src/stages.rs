//! A Dockerfile as stages, and which stages a target needs, in an order that builds
//! dependencies first.

use std::collections::BTreeSet;

use crate::error::ParseError;
use crate::instruction::{Instruction, Located, instructions};
use crate::parse::{Directives, parse};

/// One `FROM` and what follows it.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Position among the stages (what `COPY --from=0` names).
    pub index: usize,
    /// `AS name`, lower-cased.
    pub name: Option<String>,
    /// The base image or stage, unexpanded.
    pub base: String,
    /// `--platform`.
    pub platform: Option<String>,
    /// The `FROM` instruction.
    pub from: Located,
    /// The instructions after `FROM`.
    pub instructions: Vec<Located>,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// Parser directives.
    pub directives: Directives,
    /// `ARG`s before the first `FROM` (usable in `FROM` lines).
    pub global_args: Vec<(String, Option<String>)>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

impl Dockerfile {
    /// Parses `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Dockerfile, ParseError> {
        let parsed = parse(file, text)?;
        let all = instructions(file, &parsed)?;
        let mut global_args = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for l in all {
            match (&l.instruction, stages.last_mut()) {
                (
                    Instruction::From {
                        image,
                        name,
                        platform,
                    },
                    _,
                ) => {
                    if let Some(n) = name
                        && stages.iter().any(|s| s.name.as_ref() == Some(n))
                    {
                        return Err(err(file, &l, format!("duplicate stage name \"{n}\"")));
                    }
                    stages.push(Stage {
                        index: stages.len(),
                        name: name.clone(),
                        base: image.clone(),
                        platform: platform.clone(),
                        from: l.clone(),
                        instructions: Vec::new(),
                    });
                }
                (Instruction::Arg(args), None) => global_args.extend(args.iter().cloned()),
                (_, None) => {
                    return Err(err(
                        file,
                        &l,
                        format!(
                            "no build stage in current context: {} before FROM",
                            l.node.keyword
                        ),
                    ));
                }
                (_, Some(stage)) => stage.instructions.push(l),
            }
        }
        if stages.is_empty() {
            return Err(ParseError::at(
                file,
                1,
                1,
                "",
                "the Dockerfile has no FROM instruction",
            ));
        }
        Ok(Dockerfile {
            directives: parsed.directives,
            global_args,
            stages,
        })
    }

    /// The stage named `name` or numbered `name`.
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        let lower = name.to_ascii_lowercase();
        self.stages
            .iter()
            .find(|s| s.name.as_deref() == Some(lower.as_str()))
            .or_else(|| name.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }

    /// The stage a `--target` names (the last one without a target).
    pub fn target(&self, target: Option<&str>) -> Result<&Stage, crate::error::Invalid> {
        match target {
            None | Some("") => Ok(self.stages.last().expect("at least one stage")),
            Some(t) => self
                .stage(t)
                .filter(|s| s.name.is_some())
                .ok_or_else(|| crate::invalid!("failed to reach build target {t} in Dockerfile")),
        }
    }

    /// The stages `stage` uses directly (its base, `COPY --from`, `RUN --mount from=`), by
    /// index. References to images, not stages, are not listed. Only earlier stages count, as
    /// in Docker.
    pub fn deps(&self, stage: &Stage) -> BTreeSet<usize> {
        let mut refs: Vec<&str> = vec![stage.base.as_str()];
        for l in &stage.instructions {
            match &l.instruction {
                Instruction::Copy(c) => refs.extend(c.from.as_deref()),
                Instruction::Run { mounts, .. } => {
                    refs.extend(mounts.iter().filter_map(|m| m.from()));
                }
                _ => {}
            }
        }
        refs.into_iter()
            .filter_map(|r| self.stage(r))
            .filter(|s| s.index < stage.index)
            .map(|s| s.index)
            .collect()
    }

    /// The stages needed to build `target`, dependencies before dependents.
    pub fn needed(&self, target: &Stage) -> Vec<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![target.index];
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                stack.extend(self.deps(&self.stages[i]));
            }
        }
        // Dependencies always have smaller indexes.
        seen.into_iter().collect()
    }
}

fn err(file: &str, l: &Located, message: String) -> ParseError {
    ParseError::at(
        file,
        l.node.line,
        l.node.column,
        &l.node.source_line,
        message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_and_what_a_target_needs() {
        let d = Dockerfile::parse(
            "Dockerfile",
            "ARG V=1\nFROM busybox AS a\nRUN x\nFROM busybox AS b\nFROM a AS c\nCOPY --from=b /x /y\nFROM busybox AS unused\nFROM c\nRUN --mount=type=bind,from=0,target=/m true\n",
        )
        .unwrap();
        assert_eq!(d.global_args, [("V".to_string(), Some("1".to_string()))]);
        assert_eq!(d.stages.len(), 5);
        let last = d.target(None).unwrap();
        assert_eq!(d.needed(last), [0, 1, 2, 4]);
        assert_eq!(d.needed(d.target(Some("B")).unwrap()), [1]);
        assert!(
            d.target(Some("nope"))
                .unwrap_err()
                .0
                .contains("failed to reach build target nope")
        );
        let e = Dockerfile::parse("Dockerfile", "RUN x\n").unwrap_err();
        assert!(
            e.to_string().contains("no build stage in current context"),
            "{e}"
        );
        let e = Dockerfile::parse("Dockerfile", "FROM a AS x\nFROM b AS x\n").unwrap_err();
        assert!(e.to_string().contains("duplicate stage name"), "{e}");
    }
}
