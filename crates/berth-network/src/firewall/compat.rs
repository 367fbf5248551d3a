//! Hosts where something else (Docker, ufw, firewalld) set the iptables `FORWARD` policy to
//! DROP: an accept in berth's table is not final there (a drop in any base chain wins), so
//! traffic to and from berth's bridges would die in that chain. berth then adds narrow accepts
//! for its bridges to it, through the `iptables` commands so the chain stays iptables' own,
//! each marked with the comment `berth` so that berth finds and removes exactly its rules.
//! Hosts without iptables, or with an accepting `FORWARD`, get nothing.

use std::process::Command;

use super::FirewallError;

/// The comment on berth's rules in iptables chains.
const MARK: &str = "berth";

const TOOLS: [&str; 2] = ["iptables", "ip6tables"];

fn run(tool: &str, args: &[&str]) -> Result<String, FirewallError> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| FirewallError(format!("running {tool}: {e}")))?;
    if !out.status.success() {
        return Err(FirewallError(format!(
            "{tool} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `FORWARD` chain's rules as `iptables -S` prints them, or `None` without iptables (or
/// without a filter table).
fn forward_rules(tool: &str) -> Option<String> {
    run(tool, &["-w", "-S", "FORWARD"]).ok()
}

/// Makes berth's accepts in each `FORWARD` chain whose policy is DROP exactly those for
/// `bridges`: replies and DNATed traffic into a bridge, and traffic out of one.
pub fn forward_accepts(bridges: &[String]) -> Result<(), FirewallError> {
    for tool in TOOLS {
        let Some(rules) = forward_rules(tool) else {
            continue;
        };
        remove_marked(tool, &rules)?;
        if !rules.lines().any(|l| l.trim() == "-P FORWARD DROP") {
            continue;
        }
        for bridge in bridges {
            let b = bridge.as_str();
            let comment = ["-m", "comment", "--comment", MARK, "-j", "ACCEPT"];
            let mut rules: Vec<Vec<&str>> = vec![
                vec![
                    "-o",
                    b,
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "RELATED,ESTABLISHED",
                ],
                vec!["-o", b, "-m", "conntrack", "--ctstate", "DNAT"],
                vec!["-i", b],
            ];
            for r in &mut rules {
                let mut args = vec!["-w", "-I", "FORWARD"];
                args.append(r);
                args.extend(comment);
                run(tool, &args)?;
            }
        }
    }
    Ok(())
}

/// Removes berth's accepts from every `FORWARD` chain.
pub fn remove_forward_accepts() -> Result<(), FirewallError> {
    for tool in TOOLS {
        if let Some(rules) = forward_rules(tool) {
            remove_marked(tool, &rules)?;
        }
    }
    Ok(())
}

/// Deletes the rules of `rules` (`-S` output) that carry berth's comment.
fn remove_marked(tool: &str, rules: &str) -> Result<(), FirewallError> {
    let marked = format!("--comment {MARK} ");
    for line in rules
        .lines()
        .filter(|l| l.starts_with("-A ") && l.contains(&marked))
    {
        let Some(spec) = line.strip_prefix("-A ") else {
            continue;
        };
        let mut args = vec!["-w", "-D"];
        args.extend(spec.split_whitespace());
        run(tool, &args)?;
    }
    Ok(())
}
