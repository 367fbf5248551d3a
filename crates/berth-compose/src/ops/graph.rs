//! The order services start in: dependencies first, the file's order otherwise.

use indexmap::IndexMap;

/// Services in start order; `deps` maps each service to the services it needs (names not in
/// `deps` are ignored: they were left out by profiles or `--no-deps`). A cycle is an error
/// naming the services in it.
pub fn start_order(deps: &IndexMap<String, Vec<String>>) -> Result<Vec<String>, String> {
    let mut done: Vec<String> = Vec::with_capacity(deps.len());
    while done.len() < deps.len() {
        let ready = deps.iter().find(|(name, needs)| {
            !done.contains(name)
                && needs
                    .iter()
                    .all(|d| done.contains(d) || !deps.contains_key(d))
        });
        match ready {
            Some((name, _)) => done.push(name.clone()),
            None => {
                let mut left: Vec<&str> = deps
                    .keys()
                    .filter(|n| !done.contains(n))
                    .map(String::as_str)
                    .collect();
                left.sort_unstable();
                return Err(format!("dependency cycle detected: {}", left.join(" -> ")));
            }
        }
    }
    Ok(done)
}

/// Services in groups that may act at once: every group's dependencies are in earlier groups
/// (start the groups in order, stop them in reverse).
pub fn levels(deps: &IndexMap<String, Vec<String>>) -> Result<Vec<Vec<String>>, String> {
    let order = start_order(deps)?;
    let mut level: IndexMap<&str, usize> = IndexMap::new();
    for name in &order {
        let l = deps[name]
            .iter()
            .filter_map(|d| level.get(d.as_str()))
            .map(|l| l + 1)
            .max()
            .unwrap_or(0);
        level.insert(name, l);
    }
    let mut out: Vec<Vec<String>> = Vec::new();
    for (name, l) in level {
        if out.len() <= l {
            out.resize_with(l + 1, Vec::new);
        }
        out[l].push(name.to_string());
    }
    Ok(out)
}

/// `names` and everything they need, transitively, in `deps`' order.
pub fn with_dependencies(deps: &IndexMap<String, Vec<String>>, names: &[String]) -> Vec<String> {
    let mut want: Vec<String> = names.to_vec();
    let mut i = 0;
    while i < want.len() {
        for d in deps.get(&want[i]).into_iter().flatten() {
            if !want.contains(d) {
                want.push(d.clone());
            }
        }
        i += 1;
    }
    deps.keys().filter(|k| want.contains(k)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(list: &[(&str, &[&str])]) -> IndexMap<String, Vec<String>> {
        list.iter()
            .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn dependencies_come_first_and_file_order_breaks_ties() {
        let d = deps(&[
            ("web", &["api"]),
            ("api", &["db"]),
            ("db", &[]),
            ("cache", &[]),
        ]);
        assert_eq!(start_order(&d).unwrap(), ["db", "api", "web", "cache"]);
    }

    #[test]
    fn a_cycle_names_its_services() {
        let d = deps(&[("a", &["b"]), ("b", &["a"]), ("c", &[])]);
        assert_eq!(
            start_order(&d).unwrap_err(),
            "dependency cycle detected: a -> b"
        );
    }

    #[test]
    fn levels_group_services_whose_dependencies_come_before() {
        let d = deps(&[
            ("web", &["api", "cache"]),
            ("api", &["db"]),
            ("db", &[]),
            ("cache", &[]),
        ]);
        assert_eq!(
            levels(&d).unwrap(),
            [vec!["db", "cache"], vec!["api"], vec!["web"]]
        );
    }

    #[test]
    fn dependencies_are_pulled_in_transitively() {
        let d = deps(&[
            ("web", &["api"]),
            ("api", &["db"]),
            ("db", &[]),
            ("cache", &[]),
        ]);
        assert_eq!(with_dependencies(&d, &["web".into()]), ["web", "api", "db"]);
    }
}
