//! Raw nodes to typed instructions, with each instruction's flags checked. Variables are still
//! unexpanded: which instructions expand what is the executor's business (Docker expands ADD,
//! COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR and ARG defaults; RUN, CMD
//! and ENTRYPOINT are left to the shell).

use crate::error::ParseError;
use crate::parse::{Heredoc, Node, Parsed};
use crate::shell;

/// A command: exec form (JSON array) or shell form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `["prog", "arg"]`.
    Exec(Vec<String>),
    /// `prog arg`, run with the stage's SHELL.
    Shell(String),
}

pub use crate::mount::RunMount;

/// COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopySpec {
    /// Sources (raw words; heredoc sources are named by their delimiter).
    pub sources: Vec<String>,
    /// Destination (raw).
    pub dest: String,
    /// `--from=stage|index|image`.
    pub from: Option<String>,
    /// `--chown=user:group`.
    pub chown: Option<String>,
    /// `--chmod=mode`.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--parents`.
    pub parents: bool,
    /// `--exclude=pattern`, repeatable.
    pub exclude: Vec<String>,
    /// ADD `--checksum=sha256:...`.
    pub checksum: Option<String>,
    /// ADD `--keep-git-dir`.
    pub keep_git_dir: bool,
    /// Heredocs used as sources.
    pub heredocs: Vec<Heredoc>,
}

/// HEALTHCHECK.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Healthcheck {
    /// `None` for `HEALTHCHECK NONE`.
    pub command: Option<Command>,
    /// Raw durations and retries as written (`--interval=30s`, ...).
    pub interval: Option<String>,
    /// `--timeout`.
    pub timeout: Option<String>,
    /// `--start-period`.
    pub start_period: Option<String>,
    /// `--start-interval`.
    pub start_interval: Option<String>,
    /// `--retries`.
    pub retries: Option<String>,
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// `FROM [--platform=p] image [AS name]`.
    From {
        /// Image reference (raw: may use global ARGs).
        image: String,
        /// Stage name, lower-cased.
        name: Option<String>,
        /// `--platform`.
        platform: Option<String>,
    },
    /// `RUN`.
    Run {
        /// What to run.
        command: Command,
        /// Heredocs of the command.
        heredocs: Vec<Heredoc>,
        /// `--mount`s.
        mounts: Vec<RunMount>,
        /// `--network=default|none|host`.
        network: Option<String>,
        /// `--security=sandbox|insecure`.
        security: Option<String>,
    },
    /// `CMD`.
    Cmd(Command),
    /// `ENTRYPOINT`.
    Entrypoint(Command),
    /// `SHELL ["executable", "param"]`.
    Shell(Vec<String>),
    /// `LABEL k=v ...` (raw words).
    Label(Vec<(String, String)>),
    /// `ENV k=v ...` (raw words).
    Env(Vec<(String, String)>),
    /// `ARG name[=default] ...` (defaults raw).
    Arg(Vec<(String, Option<String>)>),
    /// `EXPOSE` (raw).
    Expose(String),
    /// `VOLUME` (JSON array, or raw words).
    Volume(Result<Vec<String>, String>),
    /// `USER` (raw).
    User(String),
    /// `WORKDIR` (raw).
    Workdir(String),
    /// `STOPSIGNAL` (raw).
    StopSignal(String),
    /// `MAINTAINER` (raw).
    Maintainer(String),
    /// `ONBUILD <instruction>`: the trigger's text, checked to parse.
    Onbuild(String),
    /// `HEALTHCHECK`.
    Healthcheck(Healthcheck),
    /// `COPY`.
    Copy(CopySpec),
    /// `ADD`.
    Add(CopySpec),
}

/// An instruction with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The instruction.
    pub instruction: Instruction,
    /// The node it came from (line, text).
    pub node: Node,
}

/// Types every node of a parsed file.
pub fn instructions(file: &str, parsed: &Parsed) -> Result<Vec<Located>, ParseError> {
    let escape = parsed.directives.escape;
    parsed
        .nodes
        .iter()
        .map(|node| {
            let instruction = instruction(node, escape)
                .map_err(|m| ParseError::at(file, node.line, node.column, &node.source_line, m))?;
            Ok(Located {
                instruction,
                node: node.clone(),
            })
        })
        .collect()
}

/// Flags of one instruction, each allowed name taken at most once unless repeatable.
struct Flags {
    keyword: String,
    given: Vec<(String, Option<String>)>,
}

impl Flags {
    fn new(node: &Node, allowed: &[&str]) -> Result<Self, crate::error::Invalid> {
        let mut given = Vec::new();
        for f in &node.flags {
            let body = &f[2..];
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            if !allowed.contains(&name.as_str()) {
                return Err(crate::invalid!("unknown flag: {name}"));
            }
            given.push((name, value));
        }
        Ok(Flags {
            keyword: node.keyword.clone(),
            given,
        })
    }

    fn value(&self, name: &str) -> Result<Option<String>, crate::error::Invalid> {
        let mut found = self.given.iter().filter(|(n, _)| n == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(crate::invalid!("duplicate flag specified: {name}"));
        }
        match first {
            None => Ok(None),
            Some((_, Some(v))) => Ok(Some(v.clone())),
            Some((_, None)) => Err(crate::invalid!("missing a value on flag: {name}")),
        }
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.given
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.clone())
            .collect()
    }

    fn bool(&self, name: &str) -> Result<bool, crate::error::Invalid> {
        match self.given.iter().find(|(n, _)| n == name) {
            None => Ok(false),
            Some((_, None)) => Ok(true),
            Some((_, Some(v))) => match v.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(crate::invalid!(
                    "expecting boolean value for flag {name}, not: {v} ({})",
                    self.keyword
                )),
            },
        }
    }
}

/// A JSON array of strings, if `rest` is one.
fn json_array(rest: &str) -> Option<Vec<String>> {
    rest.trim_start()
        .starts_with('[')
        .then(|| serde_json::from_str::<Vec<String>>(rest).ok())
        .flatten()
}

fn command(rest: &str) -> Command {
    match json_array(rest) {
        Some(args) => Command::Exec(args),
        None => Command::Shell(rest.to_string()),
    }
}

/// `k=v k2="v 2"`, or the legacy `k v w` (one pair, the value the rest of the line).
fn name_values(
    keyword: &str,
    rest: &str,
    escape: char,
) -> Result<Vec<(String, String)>, crate::error::Invalid> {
    let words = shell::split_raw(rest, escape);
    let Some(first) = words.first() else {
        return Err(crate::invalid!("{keyword} requires at least one argument"));
    };
    if !first.contains('=') {
        // Legacy form: `ENV key value with spaces`.
        let (key, value) = rest
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{keyword} must have two arguments"))?;
        return Ok(vec![(key.to_string(), value.trim_start().to_string())]);
    }
    words
        .iter()
        .map(|w| {
            let (k, v) = w.split_once('=').ok_or_else(|| {
                format!("Syntax error - can't find = in \"{w}\". Must be of the form: name=value")
            })?;
            if k.is_empty() {
                return Err(crate::invalid!("{keyword} names can not be blank"));
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

type Checked = Result<Instruction, crate::error::Invalid>;

/// One node's instruction, checked: flags, argument counts, forms.
fn instruction(node: &Node, escape: char) -> Checked {
    let rest = node.rest.as_str();
    let k = node.keyword.as_str();
    let no_flags = || Flags::new(node, &[]).map(|_| ());
    let needs_args = |n: usize| {
        if shell::split_raw(rest, escape).len() < n {
            Err(crate::invalid!(
                "{k} requires at least {n} argument{}",
                if n == 1 { "" } else { "s" }
            ))
        } else {
            Ok(())
        }
    };
    Ok(match k {
        "FROM" => return from(node, escape),
        "RUN" => return run(node),
        "CMD" | "ENTRYPOINT" => {
            no_flags()?;
            let c = command(rest);
            if k == "CMD" {
                Instruction::Cmd(c)
            } else {
                Instruction::Entrypoint(c)
            }
        }
        "SHELL" => {
            no_flags()?;
            match json_array(rest) {
                Some(s) if !s.is_empty() => Instruction::Shell(s),
                _ => return Err("SHELL requires the arguments to be in JSON form".into()),
            }
        }
        "LABEL" => {
            no_flags()?;
            Instruction::Label(name_values(k, rest, escape)?)
        }
        "ENV" => {
            no_flags()?;
            Instruction::Env(name_values(k, rest, escape)?)
        }
        "ARG" => {
            no_flags()?;
            needs_args(1)?;
            Instruction::Arg(
                shell::split_raw(rest, escape)
                    .into_iter()
                    .map(|w| match w.split_once('=') {
                        Some((n, v)) => (n.to_string(), Some(v.to_string())),
                        None => (w, None),
                    })
                    .collect(),
            )
        }
        "EXPOSE" | "USER" | "WORKDIR" | "STOPSIGNAL" | "MAINTAINER" => {
            no_flags()?;
            needs_args(1)?;
            let r = rest.to_string();
            match k {
                "EXPOSE" => Instruction::Expose(r),
                "USER" => Instruction::User(r),
                "WORKDIR" => Instruction::Workdir(r),
                "STOPSIGNAL" => Instruction::StopSignal(r),
                _ => Instruction::Maintainer(r),
            }
        }
        "VOLUME" => {
            no_flags()?;
            needs_args(1)?;
            Instruction::Volume(json_array(rest).ok_or_else(|| rest.to_string()))
        }
        "ONBUILD" => {
            no_flags()?;
            return onbuild(rest, escape);
        }
        "HEALTHCHECK" => return healthcheck(node),
        "COPY" | "ADD" => return copy(node, escape),
        other => return Err(crate::invalid!("unknown instruction: {other}")),
    })
}

/// `FROM [--platform=P] image [AS name]`.
fn from(node: &Node, escape: char) -> Checked {
    let flags = Flags::new(node, &["platform"])?;
    let words = shell::split_raw(&node.rest, escape);
    let (image, name) = match words.as_slice() {
        [image] => (image.clone(), None),
        [image, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
            let name = name.to_ascii_lowercase();
            if !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            {
                return Err(crate::invalid!(
                    "invalid name for build stage: \"{name}\", name can't start with a number or contain symbols"
                ));
            }
            (image.clone(), Some(name))
        }
        _ => return Err("FROM requires either one or three arguments".into()),
    };
    Ok(Instruction::From {
        image,
        name,
        platform: flags.value("platform")?,
    })
}

/// `RUN [--mount=...]... [--network=N] [--security=S] command`.
fn run(node: &Node) -> Checked {
    let flags = Flags::new(node, &["mount", "network", "security"])?;
    if node.rest.is_empty() && node.heredocs.is_empty() {
        return Err("RUN requires at least one argument".into());
    }
    let mounts = flags
        .all("mount")
        .iter()
        .map(|m| crate::mount::parse(m))
        .collect::<Result<_, _>>()?;
    let network = flags.value("network")?;
    if let Some(n) = &network
        && !matches!(n.as_str(), "default" | "none" | "host")
    {
        return Err(crate::invalid!("unsupported network mode \"{n}\""));
    }
    Ok(Instruction::Run {
        command: command(&node.rest),
        heredocs: node.heredocs.clone(),
        mounts,
        network,
        security: flags.value("security")?,
    })
}

/// `ONBUILD instruction`: the trigger is checked now, kept as text.
fn onbuild(rest: &str, escape: char) -> Checked {
    let inner = crate::parse::parse("ONBUILD", rest).map_err(|e| e.message)?;
    let Some(n) = inner.nodes.first() else {
        return Err("ONBUILD requires at least one argument".into());
    };
    if matches!(n.keyword.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
        return Err(crate::invalid!(
            "{} isn't allowed as an ONBUILD trigger",
            n.keyword
        ));
    }
    instruction(n, escape)?;
    Ok(Instruction::Onbuild(rest.to_string()))
}

/// `HEALTHCHECK [options] CMD command` or `HEALTHCHECK NONE`.
fn healthcheck(node: &Node) -> Checked {
    let flags = Flags::new(
        node,
        &[
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ],
    )?;
    let rest = node.rest.as_str();
    let (kind, cmd) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(a, b)| (a, b.trim()));
    let command = match kind.to_ascii_uppercase().as_str() {
        "NONE" if cmd.is_empty() && node.flags.is_empty() => None,
        "NONE" => return Err("HEALTHCHECK NONE takes no arguments".into()),
        "CMD" if !cmd.is_empty() => Some(command(cmd)),
        "CMD" => return Err("Missing command after HEALTHCHECK CMD".into()),
        other => {
            return Err(crate::invalid!(
                "Unknown type \"{other}\" in HEALTHCHECK (try CMD)"
            ));
        }
    };
    Ok(Instruction::Healthcheck(Healthcheck {
        command,
        interval: flags.value("interval")?,
        timeout: flags.value("timeout")?,
        start_period: flags.value("start-period")?,
        start_interval: flags.value("start-interval")?,
        retries: flags.value("retries")?,
    }))
}

/// `COPY`/`ADD [flags] src... dest`, each with its own flags.
fn copy(node: &Node, escape: char) -> Checked {
    let k = node.keyword.as_str();
    let allowed: &[&str] = if k == "COPY" {
        &["from", "chown", "chmod", "link", "parents", "exclude"]
    } else {
        &[
            "chown",
            "chmod",
            "link",
            "checksum",
            "keep-git-dir",
            "exclude",
        ]
    };
    let flags = Flags::new(node, allowed)?;
    let mut args = json_array(&node.rest).unwrap_or_else(|| shell::split_raw(&node.rest, escape));
    if args.len() + node.heredocs.len() < 2 || args.is_empty() {
        return Err(crate::invalid!(
            "{k} requires at least two arguments, but only one was provided. Destination could not be determined"
        ));
    }
    let dest = args.pop().expect("checked above");
    let spec = CopySpec {
        sources: args,
        dest,
        from: flags.value("from")?,
        chown: flags.value("chown")?,
        chmod: flags.value("chmod")?,
        link: flags.bool("link")?,
        parents: flags.bool("parents")?,
        exclude: flags.all("exclude"),
        checksum: flags.value("checksum")?,
        keep_git_dir: flags.bool("keep-git-dir")?,
        heredocs: node.heredocs.clone(),
    };
    Ok(if k == "COPY" {
        Instruction::Copy(spec)
    } else {
        Instruction::Add(spec)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Vec<Instruction> {
        let p = crate::parse::parse("Dockerfile", text).unwrap();
        instructions("Dockerfile", &p)
            .unwrap()
            .into_iter()
            .map(|l| l.instruction)
            .collect()
    }

    fn error(text: &str) -> String {
        let p = crate::parse::parse("Dockerfile", text).unwrap();
        instructions("Dockerfile", &p).unwrap_err().to_string()
    }

    #[test]
    fn every_instruction() {
        let i = typed(concat!(
            "ARG BASE=busybox\n",
            "FROM --platform=linux/amd64 $BASE AS Build\n",
            "RUN --mount=type=cache,target=/cache,id=c --network=none echo hi\n",
            "CMD [\"sh\", \"-c\"]\n",
            "ENTRYPOINT echo\n",
            "SHELL [\"/bin/sh\", \"-ec\"]\n",
            "LABEL a=1 \"b c\"=\"2 3\"\n",
            "ENV K v with spaces\n",
            "ENV A=1 B=\"x y\"\n",
            "EXPOSE 80/tcp 443\n",
            "VOLUME [\"/data\"]\n",
            "VOLUME /a /b\n",
            "USER u:g\n",
            "WORKDIR /w\n",
            "STOPSIGNAL SIGINT\n",
            "MAINTAINER me\n",
            "ONBUILD RUN echo trigger\n",
            "HEALTHCHECK --interval=5s --retries=3 CMD true\n",
            "HEALTHCHECK NONE\n",
            "COPY --from=build --chown=1:2 --chmod=644 --link a b /dst/\n",
            "ADD --checksum=sha256:abc https://x/y /z\n",
        ));
        assert_eq!(i.len(), 21);
        assert_eq!(
            i[1],
            Instruction::From {
                image: "$BASE".into(),
                name: Some("build".into()),
                platform: Some("linux/amd64".into())
            }
        );
        let Instruction::Run {
            mounts,
            network,
            command,
            ..
        } = &i[2]
        else {
            panic!()
        };
        assert!(matches!(&mounts[0], RunMount::Cache { id: Some(id), .. } if id == "c"));
        assert_eq!(network.as_deref(), Some("none"));
        assert_eq!(*command, Command::Shell("echo hi".into()));
        assert_eq!(
            i[3],
            Instruction::Cmd(Command::Exec(vec!["sh".into(), "-c".into()]))
        );
        assert_eq!(
            i[6],
            Instruction::Label(vec![
                ("a".into(), "1".into()),
                ("\"b c\"".into(), "\"2 3\"".into())
            ])
        );
        assert_eq!(
            i[7],
            Instruction::Env(vec![("K".into(), "v with spaces".into())])
        );
        assert_eq!(i[11], Instruction::Volume(Err("/a /b".into())));
        let Instruction::Healthcheck(h) = &i[17] else {
            panic!()
        };
        assert_eq!(
            (h.interval.as_deref(), h.retries.as_deref()),
            (Some("5s"), Some("3"))
        );
        assert_eq!(i[18], Instruction::Healthcheck(Healthcheck::default()));
        let Instruction::Copy(c) = &i[19] else {
            panic!()
        };
        assert_eq!(
            (c.sources.clone(), c.dest.as_str(), c.link),
            (vec!["a".to_string(), "b".into()], "/dst/", true)
        );
        // A COPY whose only source is a heredoc.
        let i = typed("COPY <<EOF /f\nhello\nEOF\n");
        let Instruction::Copy(c) = &i[0] else {
            panic!()
        };
        assert_eq!(
            (c.sources.clone(), c.heredocs[0].content.as_str()),
            (vec!["<<EOF".to_string()], "hello\n")
        );
    }

    #[test]
    fn errors_name_the_problem_and_the_line() {
        assert!(error("FROM a b\n").contains("FROM requires either one or three arguments"));
        let e = error("FROM x\nCOPY --frm=a b c\n");
        assert!(e.contains("Dockerfile:2:1: unknown flag: frm"), "{e}");
        assert!(error("COPY onlyone\n").contains("COPY requires at least two arguments"));
        assert!(error("SHELL sh -c\n").contains("JSON form"));
        assert!(error("ONBUILD FROM x\n").contains("isn't allowed as an ONBUILD trigger"));
        assert!(error("ENV =x\n").contains("names can not be blank"));
        assert!(error("RUN --mount=type=nfs,target=/x true\n").contains("unsupported mount type"));
        assert!(error("FROM x AS 1a\n").contains("invalid name for build stage"));
    }
}
