//! Retention policies: which tags and manifests of a repository to keep, and the deletes
//! that follow, each with its reason.
//!
//! ```toml
//! [[retention]]
//! repositories = ["team/**"]       # globs; the first policy matching a repository applies
//! grace = "1h"                     # nothing pushed this recently is deleted
//! delete_untagged = true           # manifests no tag, index or kept subject holds
//! delete_dangling_referrers = true # referrers whose subject is gone (or going)
//! [[retention.keep]]               # a tag is kept when ANY rule keeps it (OR) ...
//! tags = ["v*"]                    # ... a rule's conditions must ALL hold (AND):
//! latest = 3                       #   among the 3 most recent of its pattern group
//! by = "pushed"                    #   (by push, or "pulled": by last pull)
//! pushed_within = "100h"           #   and pushed within 100 h
//! [[retention.keep]]
//! tags = ["latest", "stable-*"]
//! ```
//!
//! Rules:
//! - A rule's pattern group is the tags matching any of its `tags` globs (all tags when
//!   empty); `latest` ranks within that group only, so two rules count separately.
//! - A policy with no `keep` rules keeps every tag (it only deletes untagged manifests and
//!   dangling referrers).
//! - Kept manifests: those a kept tag points to, those pushed within `grace`, untagged ones
//!   when `delete_untagged` is off, referrers when `delete_dangling_referrers` is off; then,
//!   to a fixpoint, every child of a kept index and every referrer of a kept manifest.
//!   Everything else is deleted.
//! - The deletes are applied only if what they were decided on is still so: a tag pushed
//!   again, or a manifest a new tag or index names, stays (compare-and-delete in the
//!   metadata's transaction). Blobs are left to the garbage collector.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::opt_duration_field;
use super::error::RegistryError;
use super::meta::{ManifestRecord, TagRecord};
use super::names::glob_match;
use super::registry::{Registry, now_ms};

/// One policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Repository globs it applies to.
    #[serde(default = "all")]
    pub repositories: Vec<String>,
    /// Keep rules (OR); none: keep every tag.
    #[serde(default)]
    pub keep: Vec<KeepRule>,
    /// Delete manifests nothing keeps.
    #[serde(default = "yes")]
    pub delete_untagged: bool,
    /// Delete referrers whose subject is gone.
    #[serde(default = "yes")]
    pub delete_dangling_referrers: bool,
    /// Nothing pushed this recently is deleted.
    #[serde(default, deserialize_with = "opt_duration_field")]
    pub grace: Option<Duration>,
}

/// One keep rule: its conditions combine with AND.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepRule {
    /// The pattern group (globs); empty: every tag.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Only the N most recent of the group.
    #[serde(default)]
    pub latest: Option<usize>,
    /// What "recent" means for `latest`.
    #[serde(default)]
    pub by: Recency,
    /// Only tags pushed within this long.
    #[serde(default, deserialize_with = "opt_duration_field")]
    pub pushed_within: Option<Duration>,
    /// Only tags pulled within this long (never pulled: not kept by this condition).
    #[serde(default, deserialize_with = "opt_duration_field")]
    pub pulled_within: Option<Duration>,
}

/// The order of `latest`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recency {
    /// By the time the tag was last pushed.
    #[default]
    Pushed,
    /// By the time it was last pulled (then pushed).
    Pulled,
}

fn all() -> Vec<String> {
    vec!["**".into()]
}
fn yes() -> bool {
    true
}

impl Policy {
    /// The policy of `--keep-tags N --repository PATTERN`.
    pub fn keep_latest(pattern: &str, n: usize) -> Policy {
        Policy {
            repositories: vec![pattern.to_string()],
            keep: vec![KeepRule {
                latest: Some(n),
                ..Default::default()
            }],
            delete_untagged: true,
            delete_dangling_referrers: true,
            grace: None,
        }
    }

    fn applies_to(&self, repo: &str) -> bool {
        self.repositories.iter().any(|p| glob_match(p, repo))
    }
}

/// A decision about one tag or manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// `repo:tag` or `repo@digest`.
    pub what: String,
    /// Whether it stays.
    pub keep: bool,
    /// Why.
    pub reason: String,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.keep { "keep  " } else { "delete" };
        write!(f, "{verb} {}  ({})", self.what, self.reason)
    }
}

/// What a policy decides for one repository.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// The repository.
    pub repository: String,
    /// Decisions on tags, then on manifests.
    pub decisions: Vec<Decision>,
    #[serde(skip)]
    tags: Vec<(String, TagRecord)>,
    #[serde(skip)]
    manifests: Vec<(String, u64)>,
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s > 0 && s.is_multiple_of(86400) => format!("{}d", s / 86400),
        _ if s > 0 && s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s > 0 && s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

impl KeepRule {
    fn describe(&self, i: usize) -> String {
        let mut parts = vec![];
        if let Some(n) = self.latest {
            let by = match self.by {
                Recency::Pushed => "pushed",
                Recency::Pulled => "pulled",
            };
            parts.push(format!("among the {n} most recently {by}"));
        }
        if !self.tags.is_empty() {
            parts.push(format!("of {}", self.tags.join("|")));
        }
        if let Some(d) = self.pushed_within {
            parts.push(format!("pushed within {}", human(d)));
        }
        if let Some(d) = self.pulled_within {
            parts.push(format!("pulled within {}", human(d)));
        }
        if parts.is_empty() {
            parts.push("every tag".into());
        }
        format!("rule {}: {}", i + 1, parts.join(", "))
    }

    /// The tags of `tags` this rule keeps.
    fn keeps(&self, tags: &[(String, TagRecord)], now: u64) -> BTreeSet<String> {
        let mut group: Vec<&(String, TagRecord)> = tags
            .iter()
            .filter(|(t, _)| self.tags.is_empty() || self.tags.iter().any(|p| glob_match(p, t)))
            .collect();
        let recency = |r: &TagRecord| match self.by {
            Recency::Pushed => (r.pushed, 0),
            Recency::Pulled => (r.pulled, r.pushed),
        };
        group.sort_by(|a, b| {
            recency(&b.1)
                .cmp(&recency(&a.1))
                .then_with(|| a.0.cmp(&b.0))
        });
        let within = |t: u64, d: Option<Duration>| {
            d.is_none_or(|d| t > 0 && now.saturating_sub(t) <= d.as_millis() as u64)
        };
        group
            .into_iter()
            .enumerate()
            .filter(|(rank, _)| self.latest.is_none_or(|n| *rank < n))
            .filter(|(_, (_, r))| {
                within(r.pushed, self.pushed_within) && within(r.pulled, self.pulled_within)
            })
            .map(|(_, (t, _))| t.clone())
            .collect()
    }
}

/// Decides, for one repository, what `policy` keeps and deletes (pure: no I/O).
pub fn plan(
    policy: &Policy,
    repo: &str,
    tags: Vec<(String, TagRecord)>,
    manifests: Vec<(String, ManifestRecord)>,
    now: u64,
) -> Plan {
    let grace = policy.grace.unwrap_or_default().as_millis() as u64;
    let fresh = |pushed: u64| now.saturating_sub(pushed) < grace;
    let mut decisions = Vec::new();
    let mut kept_tags: BTreeMap<String, String> = BTreeMap::new(); // tag -> reason
    let mut deleted_tags = Vec::new();
    let per_rule: Vec<BTreeSet<String>> = policy.keep.iter().map(|r| r.keeps(&tags, now)).collect();
    for (tag, rec) in &tags {
        let reason = if policy.keep.is_empty() {
            Some("no keep rules: every tag is kept".to_string())
        } else if let Some(i) = per_rule.iter().position(|k| k.contains(tag)) {
            Some(policy.keep[i].describe(i))
        } else if fresh(rec.pushed) {
            Some(format!(
                "pushed within the grace window ({})",
                human(policy.grace.unwrap_or_default())
            ))
        } else {
            None
        };
        let keep = reason.is_some();
        let reason = reason.unwrap_or_else(|| "no rule keeps it".into());
        if keep {
            kept_tags.insert(tag.clone(), reason.clone());
        } else {
            deleted_tags.push((tag.clone(), rec.clone()));
        }
        decisions.push(Decision {
            what: format!("{repo}:{tag}"),
            keep,
            reason,
        });
    }
    decide_manifests(
        policy,
        repo,
        &tags,
        &kept_tags,
        &manifests,
        fresh,
        &mut decisions,
    );
    let deleted: BTreeSet<&str> = decisions
        .iter()
        .filter(|d| !d.keep)
        .filter_map(|d| d.what.split_once('@').map(|(_, dg)| dg))
        .collect();
    let manifests = manifests
        .iter()
        .filter(|(d, _)| deleted.contains(d.as_str()))
        .map(|(d, r)| (d.clone(), r.pushed))
        .collect();
    Plan {
        repository: repo.to_string(),
        decisions,
        tags: deleted_tags,
        manifests,
    }
}

fn decide_manifests(
    policy: &Policy,
    repo: &str,
    tags: &[(String, TagRecord)],
    kept_tags: &BTreeMap<String, String>,
    manifests: &[(String, ManifestRecord)],
    fresh: impl Fn(u64) -> bool,
    decisions: &mut Vec<Decision>,
) {
    let present: BTreeSet<&str> = manifests.iter().map(|(d, _)| d.as_str()).collect();
    let mut kept: BTreeMap<&str, String> = BTreeMap::new();
    for (d, rec) in manifests {
        let tagged = tags_of(tags, d);
        let reason = if let Some(t) = tagged.iter().find(|t| kept_tags.contains_key(**t)) {
            Some(format!("tagged {t}, which is kept"))
        } else if fresh(rec.pushed) {
            Some("pushed within the grace window".to_string())
        } else if rec.subject.is_some() && !policy.delete_dangling_referrers {
            Some("a referrer, and delete_dangling_referrers is off".to_string())
        } else if tagged.is_empty() && rec.subject.is_none() && !policy.delete_untagged {
            Some("untagged, and delete_untagged is off".to_string())
        } else {
            None
        };
        if let Some(r) = reason {
            kept.insert(d, r);
        }
    }
    // Children of kept indexes and referrers of kept manifests, to a fixpoint.
    loop {
        let mut more = Vec::new();
        for (d, rec) in manifests {
            if kept.contains_key(d.as_str()) {
                continue;
            }
            if let Some(parent) = manifests
                .iter()
                .find(|(p, r)| kept.contains_key(p.as_str()) && r.children.contains(d))
            {
                more.push((d.as_str(), format!("a child of kept index {}", parent.0)));
            } else if let Some(s) = rec.subject.as_deref().filter(|s| kept.contains_key(s)) {
                more.push((d.as_str(), format!("a referrer of kept {s}")));
            }
        }
        if more.is_empty() {
            break;
        }
        kept.extend(more);
    }
    for (d, rec) in manifests {
        let tagged = tags_of(tags, d);
        let (keep, reason) = match kept.get(d.as_str()) {
            Some(r) => (true, r.clone()),
            None => (
                false,
                match &rec.subject {
                    Some(s) if !present.contains(s.as_str()) => {
                        format!("a dangling referrer: its subject {s} is gone")
                    }
                    Some(s) => format!("a referrer of {s}, which is deleted"),
                    None if !tagged.is_empty() => {
                        format!("its tags ({}) are deleted", tagged.join(", "))
                    }
                    None if manifests.iter().any(|(_, r)| r.children.contains(d)) => {
                        "a child of deleted indexes only".to_string()
                    }
                    None => "untagged".to_string(),
                },
            ),
        };
        decisions.push(Decision {
            what: format!("{repo}@{d}"),
            keep,
            reason,
        });
    }
}

/// What one application of the policies did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RetentionReport {
    /// Every repository's plan.
    pub plans: Vec<Plan>,
    /// Tags deleted.
    pub tags_deleted: usize,
    /// Manifests deleted.
    pub manifests_deleted: usize,
}

impl Registry {
    /// Plans (and unless `dry_run`, applies) the configured policies to every repository.
    pub fn apply_retention(&self, dry_run: bool) -> Result<RetentionReport, RegistryError> {
        let policies = self.config.retention.clone();
        self.apply_policies(&policies, dry_run)
    }

    /// Plans (and unless `dry_run`, applies) `policies`.
    pub fn apply_policies(
        &self,
        policies: &[Policy],
        dry_run: bool,
    ) -> Result<RetentionReport, RegistryError> {
        self.flush_pulls()?;
        let mut report = RetentionReport::default();
        for repo in self.meta.repositories()? {
            let Some(policy) = policies.iter().find(|p| p.applies_to(&repo)) else {
                continue;
            };
            let p = plan(
                policy,
                &repo,
                self.meta.tags(&repo)?,
                self.meta.manifests(&repo)?,
                now_ms(),
            );
            if !dry_run {
                for (tag, rec) in &p.tags {
                    if self.meta.delete_tag_if(&repo, tag, rec)? {
                        tracing::info!(repository = %repo, tag, "retention deleted a tag");
                        report.tags_deleted += 1;
                    }
                }
                for (d, pushed) in &p.manifests {
                    if self.meta.delete_manifest_if_unused(&repo, d, *pushed)? {
                        tracing::info!(repository = %repo, digest = %d, "retention deleted a manifest");
                        report.manifests_deleted += 1;
                    }
                }
            }
            report.plans.push(p);
        }
        self.metrics
            .retained(report.tags_deleted as u64, report.manifests_deleted as u64);
        Ok(report)
    }
}

/// The tags naming manifest `digest`.
fn tags_of<'a>(tags: &'a [(String, TagRecord)], digest: &str) -> Vec<&'a str> {
    tags.iter()
        .filter(|(_, t)| t.digest == digest)
        .map(|(t, _)| t.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000;

    fn tag(d: &str, pushed_h: u64) -> TagRecord {
        TagRecord {
            digest: d.into(),
            pushed: pushed_h * H,
            pulled: 0,
        }
    }

    fn manifest(pushed_h: u64) -> ManifestRecord {
        ManifestRecord {
            pushed: pushed_h * H,
            ..Default::default()
        }
    }

    #[test]
    fn rules_combine_and_within_or_across() {
        let policy: Policy = toml::from_str(
            r#"
            keep = [{ tags = ["v*"], latest = 3, pushed_within = "100h" }, { tags = ["latest"] }]
            "#,
        )
        .unwrap();
        let now = 1000 * H;
        let tags = vec![
            ("latest".into(), tag("sha256:a", 1)),
            ("v1".into(), tag("sha256:a", 1)),
            ("v2".into(), tag("sha256:b", 950)),
            ("v3".into(), tag("sha256:c", 960)),
            ("v4".into(), tag("sha256:d", 970)),
            ("v5".into(), tag("sha256:e", 980)),
        ];
        let manifests = ["a", "b", "c", "d", "e", "u"]
            .map(|m| (format!("sha256:{m}"), manifest(1)))
            .to_vec();
        let p = plan(&policy, "r", tags, manifests, now);
        let kept: Vec<&str> = p
            .decisions
            .iter()
            .filter(|d| d.keep)
            .map(|d| d.what.as_str())
            .collect();
        assert_eq!(
            kept,
            [
                "r:latest",
                "r:v3",
                "r:v4",
                "r:v5",
                "r@sha256:a",
                "r@sha256:c",
                "r@sha256:d",
                "r@sha256:e"
            ]
        );
        let why = |w: &str| {
            p.decisions
                .iter()
                .find(|d| d.what == w)
                .unwrap()
                .reason
                .clone()
        };
        assert_eq!(why("r:v2"), "no rule keeps it");
        assert_eq!(why("r@sha256:b"), "its tags (v2) are deleted");
        assert_eq!(why("r@sha256:u"), "untagged");
        assert!(
            why("r:v5").starts_with("rule 1: among the 3 most recently pushed"),
            "{}",
            why("r:v5")
        );
    }

    #[test]
    fn children_and_referrers_of_kept_manifests_stay() {
        let policy = Policy::keep_latest("**", 1);
        let mut index = manifest(1);
        index.children = vec!["sha256:c1".into()];
        let mut sig = manifest(1);
        sig.subject = Some("sha256:i".into());
        let mut dangling = manifest(1);
        dangling.subject = Some("sha256:gone".into());
        let manifests = vec![
            ("sha256:i".into(), index),
            ("sha256:c1".into(), manifest(1)),
            ("sha256:s".into(), sig),
            ("sha256:x".into(), dangling),
        ];
        let p = plan(
            &policy,
            "r",
            vec![("v1".into(), tag("sha256:i", 1))],
            manifests,
            10 * H,
        );
        let keep = |w: &str| p.decisions.iter().find(|d| d.what == w).unwrap().keep;
        assert!(keep("r@sha256:i") && keep("r@sha256:c1") && keep("r@sha256:s"));
        assert!(!keep("r@sha256:x"));
    }

    #[test]
    fn grace_protects_fresh_pushes() {
        let mut policy = Policy::keep_latest("**", 1);
        policy.grace = Some(Duration::from_secs(3600 * 5));
        let tags = vec![
            ("a".into(), tag("sha256:a", 8)),
            ("b".into(), tag("sha256:b", 9)),
        ];
        let manifests = vec![
            ("sha256:a".into(), manifest(8)),
            ("sha256:b".into(), manifest(9)),
        ];
        let p = plan(&policy, "r", tags, manifests, 10 * H);
        assert!(p.decisions.iter().all(|d| d.keep), "{:?}", p.decisions);
    }
}
