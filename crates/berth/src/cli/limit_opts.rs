//! `--sysctl`, `--ulimit`, `--oom-score-adj` and `--group-add` of `run` and `create`, read as
//! the docker CLI reads them (`opts.ValidateSysctl`, go-units' `ParseUlimit`), with its
//! messages. The daemon checks the rest: namespaces, ranges, groups, what it can grant.

use std::collections::BTreeMap;

use berth_api::container::Ulimit;

use super::net_opts::OptError;

/// The limit flags of a container.
#[derive(Debug, Default, clap::Args)]
pub struct LimitOpts {
    /// Sysctl options.
    #[arg(long)]
    sysctl: Vec<String>,
    /// Ulimit options.
    #[arg(long)]
    ulimit: Vec<String>,
    /// Tune host's OOM preferences (-1000 to 1000).
    #[arg(long, allow_negative_numbers = true)]
    oom_score_adj: Option<i64>,
    /// Add additional groups to join.
    #[arg(long)]
    group_add: Vec<String>,
}

/// What the flags put in a create request.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    /// `HostConfig.Sysctls`.
    pub sysctls: Option<BTreeMap<String, String>>,
    /// `HostConfig.Ulimits`, by name (the last of a name wins), always sent as the CLI does.
    pub ulimits: Vec<Ulimit>,
    /// `HostConfig.OomScoreAdj`.
    pub oom_score_adj: i64,
    /// `HostConfig.GroupAdd` (null when empty).
    pub group_add: Option<Vec<String>>,
}

impl LimitOpts {
    /// The request fields, or the docker CLI's error for the first bad value.
    pub fn parse(&self) -> Result<Parsed, OptError> {
        let flag = |value: &str, flag: &'static str, msg: String| OptError::Flag {
            value: value.to_string(),
            flag,
            msg,
        };
        let mut sysctls = BTreeMap::new();
        for s in &self.sysctl {
            let (k, v) = validate_sysctl(s).map_err(|m| flag(s, "--sysctl", m))?;
            sysctls.insert(k.to_string(), v.to_string());
        }
        let mut ulimits = BTreeMap::new();
        for u in &self.ulimit {
            let parsed = parse_ulimit(u).map_err(|m| flag(u, "--ulimit", m))?;
            ulimits.insert(parsed.name.clone(), parsed);
        }
        Ok(Parsed {
            sysctls: (!sysctls.is_empty()).then_some(sysctls),
            ulimits: ulimits.into_values().collect(),
            oom_score_adj: self.oom_score_adj.unwrap_or(0),
            group_add: (!self.group_add.is_empty()).then(|| self.group_add.clone()),
        })
    }
}

/// The namespaced sysctls the docker CLI lets through, by name or by prefix.
const SYSCTLS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];
const SYSCTL_PREFIXES: &[&str] = &["net.", "fs.mqueue."];

/// `opts.ValidateSysctl`: `key=value` with a key of [`SYSCTLS`] or [`SYSCTL_PREFIXES`].
fn validate_sysctl(s: &str) -> Result<(&str, &str), String> {
    let refused = || format!("sysctl '{s}' is not allowed");
    let (k, v) = s
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(refused)?;
    if SYSCTLS.contains(&k) || SYSCTL_PREFIXES.iter().any(|p| k.starts_with(p)) {
        Ok((k, v))
    } else {
        Err(refused())
    }
}

/// go-units' `ParseUlimit`: `name=soft[:hard]`, the hard limit the soft one when left out,
/// -1 unlimited.
pub(crate) fn parse_ulimit(s: &str) -> Result<Ulimit, String> {
    let (name, values) = s
        .split_once('=')
        .ok_or_else(|| format!("invalid ulimit argument: {s}"))?;
    if berth_runtime::rlimit::kind(name).is_none() {
        return Err(format!("invalid ulimit type: {name}"));
    }
    let int = |v: &str| v.parse::<i64>().map_err(|e| go_parse_int(v, &e));
    let parts: Vec<&str> = values.split(':').collect();
    let (soft, hard) = match parts[..] {
        [soft] => (int(soft)?, int(soft)?),
        [soft, hard] => {
            // Go parses the hard limit first.
            let hard = int(hard)?;
            (int(soft)?, hard)
        }
        _ => {
            return Err(format!(
                "too many limit value arguments - {values}, can only have up to two, `soft[:hard]`"
            ));
        }
    };
    if hard != -1 {
        if soft == -1 {
            return Err(format!(
                "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: {hard}"
            ));
        }
        if soft > hard {
            return Err(format!(
                "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
            ));
        }
    }
    Ok(Ulimit {
        name: name.to_string(),
        hard,
        soft,
    })
}

/// Go's `strconv.ParseInt` error text.
fn go_parse_int(v: &str, e: &std::num::ParseIntError) -> String {
    let why = match e.kind() {
        std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
            "value out of range"
        }
        _ => "invalid syntax",
    };
    format!("strconv.ParseInt: parsing {v:?}: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulimit(name: &str, soft: i64, hard: i64) -> Ulimit {
        Ulimit {
            name: name.into(),
            hard,
            soft,
        }
    }

    #[test]
    fn sysctls_are_the_namespaced_ones_the_docker_cli_allows() {
        assert_eq!(
            validate_sysctl("kernel.shmmax=65536"),
            Ok(("kernel.shmmax", "65536"))
        );
        assert_eq!(
            validate_sysctl("net.ipv4.ip_forward=1"),
            Ok(("net.ipv4.ip_forward", "1"))
        );
        assert_eq!(
            validate_sysctl("fs.mqueue.msg_max=20"),
            Ok(("fs.mqueue.msg_max", "20"))
        );
        assert_eq!(
            validate_sysctl("net.ipv4.ping_group_range=0 1=2"),
            Ok(("net.ipv4.ping_group_range", "0 1=2"))
        );
        for bad in [
            "kernel.domainname=x",
            "net.ipv4.ip_forward",
            "=1",
            "vm.swappiness=1",
        ] {
            assert_eq!(
                validate_sysctl(bad),
                Err(format!("sysctl '{bad}' is not allowed"))
            );
        }
    }

    #[test]
    fn ulimits_parse_as_go_units_parses_them() {
        assert_eq!(
            parse_ulimit("nofile=1024:2048"),
            Ok(ulimit("nofile", 1024, 2048))
        );
        assert_eq!(parse_ulimit("nproc=100"), Ok(ulimit("nproc", 100, 100)));
        assert_eq!(parse_ulimit("core=-1"), Ok(ulimit("core", -1, -1)));
        assert_eq!(parse_ulimit("core=0:-1"), Ok(ulimit("core", 0, -1)));
        assert_eq!(
            parse_ulimit("nofile"),
            Err("invalid ulimit argument: nofile".into())
        );
        assert_eq!(parse_ulimit("as=1"), Err("invalid ulimit type: as".into()));
        assert_eq!(
            parse_ulimit("nofile=1:2:3"),
            Err(
                "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`"
                    .into()
            )
        );
        assert_eq!(
            parse_ulimit("nofile=x:y"),
            Err(r#"strconv.ParseInt: parsing "y": invalid syntax"#.into())
        );
        assert_eq!(
            parse_ulimit("nofile=99999999999999999999"),
            Err(r#"strconv.ParseInt: parsing "99999999999999999999": value out of range"#.into())
        );
        assert_eq!(
            parse_ulimit("nofile=2048:1024"),
            Err("ulimit soft limit must be less than or equal to hard limit: 2048 > 1024".into())
        );
        assert_eq!(
            parse_ulimit("nofile=-1:1024"),
            Err("ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 1024".into())
        );
    }

    #[test]
    fn the_flags_fill_the_request_as_the_docker_cli_does() {
        let o = LimitOpts {
            sysctl: vec!["net.ipv4.ip_forward=1".into()],
            ulimit: vec!["nproc=10".into(), "nofile=1:2".into(), "nofile=3:4".into()],
            oom_score_adj: Some(-5),
            group_add: vec!["audio".into(), "4242".into()],
        };
        let p = o.parse().unwrap();
        assert_eq!(p.ulimits, [ulimit("nofile", 3, 4), ulimit("nproc", 10, 10)]);
        assert_eq!(p.oom_score_adj, -5);
        assert_eq!(p.group_add.unwrap(), ["audio", "4242"]);
        assert_eq!(p.sysctls.unwrap()["net.ipv4.ip_forward"], "1");
        let none = LimitOpts::default().parse().unwrap();
        assert_eq!(
            (none.sysctls, none.ulimits, none.group_add),
            (None, vec![], None)
        );
        let err = LimitOpts {
            sysctl: vec!["kernel.domainname=x".into()],
            ..LimitOpts::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid argument "kernel.domainname=x" for "--sysctl" flag: sysctl 'kernel.domainname=x' is not allowed"#
        );
    }
}
