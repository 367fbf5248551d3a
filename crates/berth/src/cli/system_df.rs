//! The volume figures of `system df` and its verbose (`-v`) tables, as Docker prints them.

use serde_json::Value;

use super::{ago, human_size, human_size_precision, table_min};

fn rows<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v[key].as_array().into_iter().flatten()
}

/// Volumes: how many, how many mounted, their size, and what is reclaimable (with Docker's
/// percentage of the total).
pub fn volumes(v: &Value) -> (usize, usize, i64, String) {
    let (mut total, mut active, mut size, mut reclaimable) = (0, 0, 0, 0);
    for vol in rows(v, "Volumes") {
        total += 1;
        let refs = vol["UsageData"]["RefCount"].as_i64().unwrap_or(-1);
        let bytes = vol["UsageData"]["Size"].as_i64().unwrap_or(-1);
        if refs > 0 {
            active += 1;
        }
        if bytes >= 0 {
            size += bytes;
            if refs == 0 {
                reclaimable += bytes;
            }
        }
    }
    let shown = if size > 0 {
        format!(
            "{} ({}%)",
            human_size_precision(reclaimable, 4),
            reclaimable * 100 / size
        )
    } else {
        human_size_precision(reclaimable, 4)
    };
    (total, active, size, shown)
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// `system df -v`.
pub fn verbose(v: &Value) {
    println!("Images space usage:\n");
    let mut t = vec![row(&[
        "REPOSITORY",
        "TAG",
        "IMAGE ID",
        "CREATED",
        "SIZE",
        "SHARED SIZE",
        "UNIQUE SIZE",
        "CONTAINERS",
    ])];
    for i in rows(v, "Images") {
        let id = s(&i["Id"]);
        let short = id.strip_prefix("sha256:").unwrap_or(&id)[..12].to_string();
        let size = i["Size"].as_i64().unwrap_or(0);
        // The docker CLI's: N/A when the daemon did not count, four digits.
        let (shared, unique) = match i["SharedSize"].as_i64().unwrap_or(-1) {
            -1 => ("N/A".to_string(), "N/A".to_string()),
            n => (
                super::human_size_precision(n, 4),
                super::human_size_precision(size - n, 4),
            ),
        };
        let tags: Vec<String> = rows(i, "RepoTags").map(s).collect();
        let names = if tags.is_empty() {
            vec!["<none>:<none>".to_string()]
        } else {
            tags
        };
        for name in names {
            let (repo, tag) = name.rsplit_once(':').unwrap_or((&name, "<none>"));
            t.push(vec![
                repo.into(),
                tag.into(),
                short.clone(),
                ago(i["Created"].as_i64().unwrap_or(0)),
                human_size(size),
                shared.clone(),
                unique.clone(),
                i["Containers"].to_string(),
            ]);
        }
    }
    table_min(&t, 10);
    println!("\nContainers space usage:\n");
    let mut t = vec![row(&[
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "LOCAL VOLUMES",
        "SIZE",
        "CREATED",
        "STATUS",
        "NAMES",
    ])];
    for c in rows(v, "Containers") {
        let volumes = rows(c, "Mounts").filter(|m| m["Type"] == "volume").count();
        t.push(vec![
            s(&c["Id"]).chars().take(12).collect(),
            s(&c["Image"]),
            format!("\"{}\"", s(&c["Command"])),
            volumes.to_string(),
            human_size(c["SizeRw"].as_i64().unwrap_or(0)),
            ago(c["Created"].as_i64().unwrap_or(0)),
            s(&c["Status"]),
            rows(c, "Names")
                .map(|n| s(n).trim_start_matches('/').to_string())
                .collect::<Vec<_>>()
                .join(","),
        ]);
    }
    table_min(&t, 10);
    println!("\nLocal Volumes space usage:\n");
    let mut t = vec![row(&["VOLUME NAME", "LINKS", "SIZE"])];
    for vol in rows(v, "Volumes") {
        t.push(vec![
            s(&vol["Name"]),
            vol["UsageData"]["RefCount"].to_string(),
            human_size_precision(vol["UsageData"]["Size"].as_i64().unwrap_or(0), 4),
        ]);
    }
    table_min(&t, 10);
    let cache: i64 = rows(v, "BuildCache")
        .map(|c| c["Size"].as_i64().unwrap_or(0))
        .sum();
    println!("\nBuild cache usage: {}\n", human_size_precision(cache, 4));
    let mut t = vec![row(&[
        "CACHE ID",
        "CACHE TYPE",
        "SIZE",
        "CREATED",
        "LAST USED",
        "USAGE",
        "SHARED",
    ])];
    for c in rows(v, "BuildCache") {
        let created = c["CreatedAt"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or("N/A".to_string(), |t| ago(t.timestamp()));
        t.push(vec![
            s(&c["ID"]).chars().take(12).collect(),
            s(&c["Type"]),
            human_size(c["Size"].as_i64().unwrap_or(0)),
            created,
            "N/A".into(),
            c["UsageCount"].to_string(),
            c["Shared"].to_string(),
        ]);
    }
    table_min(&t, 10);
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}
