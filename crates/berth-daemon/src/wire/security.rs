//! `HostConfig.SecurityOpt`, read as dockerd reads it (`parseSecurityOpt`), with its messages.
//! What berth cannot apply on this host is refused by name rather than ignored.

use berth_api::container::HostConfig;

use crate::containers::{Seccomp, Security};
use crate::error::{Error, Result};

/// The confinement a create request asks for, checked.
pub fn from_host_config(h: &HostConfig) -> Result<Security> {
    let mut s = security(h.security_opt.as_deref().unwrap_or_default())?;
    s.options = h.security_opt.clone();
    s.cap_add = h.cap_add.clone().unwrap_or_default();
    s.cap_drop = h.cap_drop.clone().unwrap_or_default();
    s.privileged = h.privileged;
    s.masked_paths = h.masked_paths.clone();
    s.readonly_paths = h.readonly_paths.clone();
    // As dockerd records it: a privileged container is unlabelled unless it names a label.
    let labelled = s
        .options
        .iter()
        .flatten()
        .any(|o| o.split('=').next() == Some("label"));
    if s.privileged && !labelled {
        s.options
            .get_or_insert_default()
            .push("label=disable".into());
    }
    s.capabilities()?;
    Ok(s)
}

/// The confinement `opts` ask for.
pub fn security(opts: &[String]) -> Result<Security> {
    let mut s = Security {
        options: Some(opts.to_vec()),
        ..Security::default()
    };
    for opt in opts {
        match opt.as_str() {
            "no-new-privileges" => s.no_new_privileges = Some(true),
            "writable-cgroups" => s.writable_cgroups = Some(true),
            "disable" => {}
            _ => option(&mut s, opt)?,
        }
    }
    Ok(s)
}

/// One `key=value` option (or the deprecated `key:value`).
fn option(s: &mut Security, opt: &str) -> Result<()> {
    let split = if opt.contains('=') {
        opt.split_once('=')
    } else {
        opt.split_once(':')
    };
    let Some((key, value)) = split else {
        return Err(Error::invalid(format!("invalid --security-opt 1: {opt:?}")));
    };
    let bad = || Error::invalid(format!("invalid --security-opt 2: {opt:?}"));
    match key {
        "seccomp" => {
            s.seccomp = match value {
                "" => Seccomp::Daemon,
                "builtin" => Seccomp::Builtin,
                "unconfined" => Seccomp::Unconfined,
                json => {
                    berth_runtime::seccomp::Profile::parse(json)
                        .map_err(|e| Error::invalid(e.to_string()))?;
                    Seccomp::Profile(json.to_string())
                }
            }
        }
        "no-new-privileges" => s.no_new_privileges = Some(go_bool(value).ok_or_else(bad)?),
        "writable-cgroups" => s.writable_cgroups = Some(go_bool(value).ok_or_else(bad)?),
        "apparmor" => match value {
            "" | "unconfined" => {}
            profile if berth_runtime::spec::host_has_apparmor() => {
                s.apparmor = Some(profile.to_string());
            }
            profile => {
                return Err(Error::invalid(format!(
                    "--security-opt apparmor={profile}: AppArmor is not enabled on this host"
                )));
            }
        },
        // Docker ignores labels where the host has no SELinux; berth applies none anywhere.
        "label" if value == "disable" || !host_has_selinux() => {}
        "label" => {
            return Err(Error::invalid(format!(
                "--security-opt {opt}: berth does not apply SELinux labels (only label=disable)"
            )));
        }
        _ => return Err(bad()),
    }
    Ok(())
}

/// Whether the host enforces SELinux, where a label would mean something.
fn host_has_selinux() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

/// Go's `strconv.ParseBool`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(opts: &[&str]) -> Result<Security> {
        security(&opts.iter().map(|o| o.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn dockers_options_are_read_as_dockerd_reads_them() {
        let s = parse(&["seccomp=unconfined", "no-new-privileges"]).unwrap();
        assert_eq!(s.seccomp, Seccomp::Unconfined);
        assert_eq!(s.no_new_privileges, Some(true));
        assert_eq!(
            s.options.as_deref(),
            Some(
                &[
                    "seccomp=unconfined".to_string(),
                    "no-new-privileges".to_string()
                ][..]
            )
        );
        let s = parse(&[
            "seccomp:builtin",
            "no-new-privileges=false",
            "label=disable",
        ])
        .unwrap();
        assert_eq!(s.seccomp, Seccomp::Builtin);
        assert_eq!(s.no_new_privileges, Some(false));
        let json = r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#;
        let s = parse(&[&format!("seccomp={json}")]).unwrap();
        assert_eq!(s.seccomp, Seccomp::Profile(json.into()));
        assert_eq!(
            parse(&["apparmor=unconfined"]).unwrap().seccomp,
            Seccomp::Daemon
        );
    }

    #[test]
    fn bad_options_get_dockers_messages() {
        let msg = |opts: &[&str]| parse(opts).unwrap_err().message;
        assert_eq!(msg(&["nonsense"]), "invalid --security-opt 1: \"nonsense\"");
        assert_eq!(msg(&["foo=bar"]), "invalid --security-opt 2: \"foo=bar\"");
        assert_eq!(
            msg(&["no-new-privileges=maybe"]),
            "invalid --security-opt 2: \"no-new-privileges=maybe\""
        );
        assert!(msg(&["seccomp={"]).starts_with("Decoding seccomp profile failed"));
        if !berth_runtime::spec::host_has_apparmor() {
            assert_eq!(
                msg(&["apparmor=docker-default"]),
                "--security-opt apparmor=docker-default: AppArmor is not enabled on this host"
            );
        }
        if host_has_selinux() {
            assert!(msg(&["label=type:svirt_t"]).contains("label=type:svirt_t"));
        } else {
            parse(&["label=type:svirt_t", "label=level:s0"]).unwrap();
        }
    }
}
