//! `--change` instructions of `import` (and later `commit`): the Dockerfile instructions that only
//! touch the image config.

use std::collections::BTreeMap;

use berth_image::RunConfig;
use berth_image::config::Empty;

use crate::Error;

/// Parses `["a", "b"]` (exec form) or a shell-form command.
fn command(args: &str) -> Vec<String> {
    let t = args.trim();
    if t.starts_with('[')
        && let Ok(v) = serde_json::from_str::<Vec<String>>(t)
    {
        return v;
    }
    vec!["/bin/sh".into(), "-c".into(), t.into()]
}

/// `KEY=value KEY2="v w"` or the legacy `KEY value` form.
fn pairs(args: &str) -> Result<Vec<(String, String)>, Error> {
    let t = args.trim();
    if !t.contains('=') {
        let (k, v) = t
            .split_once(char::is_whitespace)
            .ok_or_else(|| Error::invalid(format!("{t} requires a value")))?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    let mut out = Vec::new();
    let mut chars = t.chars().peekable();
    while chars.peek().is_some() {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut word = String::new();
        let mut quote = None;
        for c in chars.by_ref() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, c) if c.is_whitespace() => break,
                (_, c) => word.push(c),
            }
        }
        if word.is_empty() {
            continue;
        }
        let (k, v) = word.split_once('=').ok_or_else(|| {
            Error::invalid(format!(
                "Syntax error - can't find = in \"{word}\". Must be of the form: name=value"
            ))
        })?;
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// Applies one change such as `CMD ["sh"]` or `ENV A=b` to `config`.
pub fn apply(config: &mut RunConfig, change: &str) -> Result<(), Error> {
    let change = change.trim();
    let (inst, args) = change
        .split_once(char::is_whitespace)
        .unwrap_or((change, ""));
    let args = args.trim();
    match inst.to_ascii_uppercase().as_str() {
        "CMD" => config.cmd = Some(command(args)),
        "ENTRYPOINT" => config.entrypoint = Some(command(args)),
        "ENV" => {
            let env = config.env.get_or_insert_with(Vec::new);
            for (k, v) in pairs(args)? {
                berth_image::config::set_env(env, &format!("{k}={v}"));
            }
        }
        "LABEL" => {
            let labels = config.labels.get_or_insert_with(BTreeMap::new);
            for (k, v) in pairs(args)? {
                labels.insert(k, v);
            }
        }
        "WORKDIR" => config.working_dir = args.to_string(),
        "USER" => config.user = args.to_string(),
        "STOPSIGNAL" => config.stop_signal = Some(args.to_string()),
        "EXPOSE" => {
            let ports = config.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in args.split_whitespace() {
                let p = if p.contains('/') {
                    p.to_string()
                } else {
                    format!("{p}/tcp")
                };
                ports.insert(p, Empty {});
            }
        }
        "VOLUME" => {
            let vols = config.volumes.get_or_insert_with(BTreeMap::new);
            let list: Vec<String> = if args.starts_with('[') {
                serde_json::from_str(args).map_err(|e| Error::invalid(format!("VOLUME: {e}")))?
            } else {
                args.split_whitespace().map(str::to_string).collect()
            };
            for v in list {
                vols.insert(v, Empty {});
            }
        }
        "ONBUILD" => config
            .on_build
            .get_or_insert_with(Vec::new)
            .push(args.to_string()),
        "HEALTHCHECK" => {
            let parsed = berth_build::parse::parse("change", change)
                .and_then(|p| berth_build::instruction::instructions("change", &p))
                .map_err(|e| Error::invalid(e.to_string()))?;
            let Some(berth_build::Instruction::Healthcheck(h)) =
                parsed.first().map(|l| &l.instruction)
            else {
                return Err(Error::invalid(format!("invalid change: {change}")));
            };
            config.healthcheck = Some(crate::build::metadata::health_config(h)?);
        }
        "" => return Err(Error::invalid("empty change")),
        other => {
            return Err(Error::invalid(format!(
                "{} is not a valid change command",
                other.to_ascii_lowercase()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_changes() {
        let mut c = RunConfig::default();
        apply(&mut c, r#"CMD ["sh", "-c", "echo hi"]"#).unwrap();
        apply(&mut c, "ENTRYPOINT /bin/run now").unwrap();
        apply(&mut c, r#"ENV A=1 B="two words""#).unwrap();
        apply(&mut c, "ENV A 3").unwrap();
        apply(&mut c, "EXPOSE 80 53/udp").unwrap();
        apply(&mut c, "STOPSIGNAL SIGUSR1").unwrap();
        assert_eq!(c.cmd.unwrap(), ["sh", "-c", "echo hi"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "/bin/run now"]);
        // A re-set variable keeps its place, as Docker's import replaces it.
        assert_eq!(c.env.unwrap(), ["A=3", "B=two words"]);
        assert!(c.exposed_ports.unwrap().contains_key("80/tcp"));
        assert_eq!(
            apply(&mut RunConfig::default(), "RUN x")
                .unwrap_err()
                .message,
            "run is not a valid change command"
        );
    }
}
