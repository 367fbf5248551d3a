//! `history`, with the docker CLI's columns, truncation and `--human`/`--format`.

use anyhow::Result;
use berth_client::Client;
use serde_json::{Value, json};

use super::template::Template;
use super::{enc, human_size};

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The image.
    image: String,
    /// Print sizes and dates in human readable format.
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    human: bool,
    /// Don't truncate output.
    #[arg(long)]
    no_trunc: bool,
    /// Only show image IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Format output using a custom template ("table", "json", or a Go template).
    #[arg(long)]
    format: Option<String>,
}

const DEFAULT: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// Go's `formatter.Ellipsis`: at most `max` characters, the last one `…` when cut.
fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// One step as the formatter's fields.
fn row(h: &Value, a: &HistoryArgs) -> Value {
    let id = h["Id"].as_str().unwrap_or("<missing>");
    let id = match (a.no_trunc, id.split_once(':')) {
        (false, Some((_, hex))) => hex.chars().take(12).collect(),
        _ => id.to_string(),
    };
    let created = h["Created"].as_i64().unwrap_or(0);
    let at = chrono::DateTime::from_timestamp(created, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_default();
    let by = h["CreatedBy"]
        .as_str()
        .unwrap_or_default()
        .replace('\t', " ");
    let size = h["Size"].as_i64().unwrap_or(0);
    json!({
        "ID": id,
        "CreatedAt": at,
        "CreatedSince": if a.human { super::ago(created) } else { at.clone() },
        "CreatedBy": if a.no_trunc { by } else { ellipsis(&by, 45) },
        "Size": if a.human { human_size(size) } else { size.to_string() },
        "Comment": h["Comment"].as_str().unwrap_or_default(),
    })
}

fn header(human: bool) -> Value {
    let since = if human { "CREATED" } else { "CREATED AT" };
    json!({"ID": "IMAGE", "CreatedAt": "CREATED AT", "CreatedSince": since,
           "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"})
}

pub async fn history(client: &Client, a: HistoryArgs) -> Result<u8> {
    let steps: Vec<Value> = client
        .get(&format!("/images/{}/history", enc(&a.image)))
        .await?;
    let format = match (a.quiet, a.format.as_deref()) {
        (true, _) => "{{.ID}}",
        (false, Some("json")) => "{{json .}}",
        (false, Some(f)) if !f.is_empty() && f != "table" => f,
        _ => DEFAULT,
    };
    let t = Template::parse(format)?;
    let mut rows = Vec::new();
    if t.table {
        rows.push(t.render(&header(a.human))?);
    }
    for h in &steps {
        rows.push(t.render(&row(h, &a))?);
    }
    super::template::print_rows(&t, &rows);
    Ok(0)
}
