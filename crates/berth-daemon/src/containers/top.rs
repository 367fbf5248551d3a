//! `top`: the host's `ps`, cut down to the container's processes, as Docker does it.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Container, Containers, Status};
use crate::error::{Error, Result};

/// `ps`'s column titles and the container's rows.
pub type Table = (Vec<String>, Vec<Vec<String>>);

impl Containers {
    /// Runs `ps` with `ps_args` (`-ef` when empty) and keeps the container's processes.
    pub async fn top(&self, c: &Arc<Container>, ps_args: &str) -> Result<Table> {
        let rec = c.record();
        let not_running = || Error::conflict(format!("Container {} is not running", rec.id));
        if rec.state.status != Status::Running {
            return Err(not_running());
        }
        let ps_args = if ps_args.is_empty() { "-ef" } else { ps_args };
        if ps_args.contains('\0') {
            return Err(Error::invalid(
                "Error running ps: ps_args contains a NUL byte",
            ));
        }
        let pids: BTreeSet<i32> = match berth_runtime::cgroup::procs(&rec.spec.cgroup.path(&rec.id))
        {
            Ok(pids) => pids.into_iter().collect(),
            // The container ended after the check above: its cgroup is gone.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_running()),
            Err(e) => return Err(Error::internal("reading the container's processes", e)),
        };
        let out = tokio::process::Command::new("ps")
            .args(ps_args.split_whitespace())
            .output()
            .await
            .map_err(|e| Error::internal_msg(format!("Error running ps: {e}")))?;
        if !out.status.success() {
            return Err(Error::invalid(format!(
                "Error running ps: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        filter(&String::from_utf8_lossy(&out.stdout), &pids)
    }
}

/// Keeps the rows of `ps` output whose PID is in `pids`; the last column takes the rest of
/// the line (commands have spaces).
fn filter(ps: &str, pids: &BTreeSet<i32>) -> Result<Table> {
    let mut lines = ps.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let col = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| Error::invalid("Couldn't find PID field in ps output"))?;
    let mut rows = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(pid) = fields.get(col).and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if !pids.contains(&pid) || fields.len() < titles.len() {
            continue;
        }
        let last = titles.len() - 1;
        let mut row: Vec<String> = fields[..last].iter().map(|f| f.to_string()).collect();
        row.push(fields[last..].join(" "));
        rows.push(row);
    }
    Ok((titles, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_the_container_with_whole_commands() {
        let ps = "UID  PID  PPID  C STIME TTY TIME CMD\n\
                  root 1    0     0 09:00 ?   00:00:01 /sbin/init\n\
                  root 42   40    0 09:01 ?   00:00:00 sleep 30 now\n";
        let (t, rows) = filter(ps, &BTreeSet::from([42])).unwrap();
        assert_eq!(t.len(), 8);
        assert_eq!(
            rows,
            [[
                "root",
                "42",
                "40",
                "0",
                "09:01",
                "?",
                "00:00:00",
                "sleep 30 now"
            ]]
        );
        filter("USER COMMAND\nroot x\n", &BTreeSet::new()).unwrap_err();
    }
}
