//! `compose ls`: the projects that have containers, from their labels.

use std::collections::BTreeMap;

use anyhow::Result;
use berth_api::container::Summary;
use berth_compose::ops::labels;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Show all stopped Compose projects.
    #[arg(short, long)]
    all: bool,
    /// Only display project names.
    #[arg(short, long)]
    quiet: bool,
    /// Format the output. Values: [table | json].
    #[arg(long, default_value = "table")]
    format: String,
    /// Filter output based on conditions provided (`name=...`).
    #[arg(long)]
    filter: Vec<String>,
}

struct Stack {
    status: String,
    config_files: String,
}

/// `exited(1), running(2)`: states counted, sorted by name.
fn combined_status(list: &[&Summary]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in list {
        *counts.entry(c.state.as_str()).or_default() += 1;
    }
    counts
        .iter()
        .map(|(s, n)| format!("{s}({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn combined_files(list: &[&Summary]) -> String {
    let mut files: Vec<&str> = Vec::new();
    for c in list {
        let Some(v) = c.labels.get(labels::CONFIG_FILES) else {
            return "N/A".into();
        };
        for f in v.split(',') {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    files.join(",")
}

pub async fn ls(ctx: &Ctx, a: LsArgs) -> Result<u8> {
    let mut names: Vec<String> = Vec::new();
    for f in &a.filter {
        match f.split_once('=') {
            Some(("name", v)) => names.push(v.to_string()),
            _ => anyhow::bail!("invalid filter {f:?}: only name=... is supported"),
        }
    }
    let list = ctx
        .api
        .containers(&[labels::PROJECT.into(), labels::CONFIG_HASH.into()])
        .await?;
    let mut by: BTreeMap<&str, Vec<&Summary>> = BTreeMap::new();
    for c in list.iter().filter(|c| a.all || c.state == "running") {
        let p = c.labels.get(labels::PROJECT).map_or("", String::as_str);
        if names.is_empty() || names.iter().any(|n| p.contains(n.as_str())) {
            by.entry(p).or_default().push(c);
        }
    }
    let stacks: Vec<(&str, Stack)> = by
        .iter()
        .map(|(p, l)| {
            let s = Stack {
                status: combined_status(l),
                config_files: combined_files(l),
            };
            (*p, s)
        })
        .collect();
    if a.quiet {
        stacks.iter().for_each(|(n, _)| println!("{n}"));
        return Ok(0);
    }
    match a.format.as_str() {
        "table" => {
            let mut rows = vec![vec!["NAME".into(), "STATUS".into(), "CONFIG FILES".into()]];
            for (n, s) in &stacks {
                rows.push(vec![
                    n.to_string(),
                    s.status.clone(),
                    s.config_files.clone(),
                ]);
            }
            crate::cli::table(&rows);
        }
        "json" => {
            let v: Vec<serde_json::Value> = stacks
                .iter()
                .map(|(n, s)| serde_json::json!({"Name": n, "Status": s.status, "ConfigFiles": s.config_files}))
                .collect();
            println!("{}", serde_json::Value::Array(v));
        }
        other => anyhow::bail!("format value {other:?} could not be parsed: use table or json"),
    }
    Ok(0)
}
