//! `GET /v2/<name>/tags/list` and `GET /v2/_catalog`, sorted, with the spec's pagination:
//! `n` results at most, after `last`, and a `Link: <...>; rel="next"` header while more
//! remain.

use std::sync::Arc;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::RegistryError;
use super::query;
use super::registry::{Registry, blocking};

/// `n` and `last` of a query.
fn page(q: Option<&str>) -> Result<(Option<usize>, Option<String>), RegistryError> {
    let n = match query::get(q, "n") {
        Some(n) if !n.is_empty() => Some(n.parse().map_err(|_| RegistryError::PaginationInvalid)?),
        _ => None,
    };
    Ok((n, query::get(q, "last").filter(|l| !l.is_empty())))
}

/// The page of sorted `all` after `last`, and whether more follow.
fn paginate(all: Vec<String>, n: Option<usize>, last: Option<&str>) -> (Vec<String>, bool) {
    let mut items: Vec<String> = all
        .into_iter()
        .filter(|t| last.is_none_or(|l| t.as_str() > l))
        .collect();
    let more = n.is_some_and(|n| items.len() > n);
    if let Some(n) = n {
        items.truncate(n);
    }
    (items, more)
}

fn with_link(body: serde_json::Value, next: Option<String>) -> Response {
    let mut resp = axum::Json(body).into_response();
    if let Some(link) = next.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert(header::LINK, link);
    }
    resp
}

/// The tags of a repository.
pub async fn list(
    reg: Arc<Registry>,
    repo: String,
    q: Option<&str>,
) -> Result<Response, RegistryError> {
    let (n, last) = page(q)?;
    let name = repo.clone();
    let tags = blocking(move || {
        let tags = reg.meta.tags(&name)?;
        if tags.is_empty() && !reg.meta.repository_exists(&name)? {
            return Err(RegistryError::NameUnknown(name));
        }
        Ok(tags.into_iter().map(|(t, _)| t).collect::<Vec<_>>())
    })
    .await?;
    let (tags, more) = paginate(tags, n, last.as_deref());
    let next = match (more, tags.last(), n) {
        (true, Some(l), Some(n)) => Some(format!(
            "</v2/{repo}/tags/list?n={n}&last={}>; rel=\"next\"",
            query::encode(l)
        )),
        _ => None,
    };
    Ok(with_link(
        serde_json::json!({ "name": repo, "tags": tags }),
        next,
    ))
}

/// The repositories.
pub async fn catalog(reg: Arc<Registry>, q: Option<&str>) -> Result<Response, RegistryError> {
    let (n, last) = page(q)?;
    let repos = blocking(move || Ok(reg.meta.repositories()?)).await?;
    let (repos, more) = paginate(repos, n, last.as_deref());
    let next = match (more, repos.last(), n) {
        (true, Some(l), Some(n)) => Some(format!(
            "</v2/_catalog?n={n}&last={}>; rel=\"next\"",
            query::encode(l)
        )),
        _ => None,
    };
    Ok(with_link(
        serde_json::json!({ "repositories": repos }),
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_last() {
        let all: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        assert_eq!(
            paginate(all.clone(), Some(2), None),
            (vec!["a".into(), "b".into()], true)
        );
        assert_eq!(
            paginate(all.clone(), Some(2), Some("b")),
            (vec!["c".into(), "d".into()], false)
        );
        assert_eq!(paginate(all.clone(), Some(0), None).0.len(), 0);
        assert_eq!(paginate(all, None, Some("c")).0, ["d"]);
    }
}
