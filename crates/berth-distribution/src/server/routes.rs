//! The `/v2/` paths, parsed once into a [`Route`]. Repository names hold slashes, so the
//! path is split at the last marker (`/manifests/`, `/blobs/`, ...) and what comes before
//! must be a valid name.

use super::error::RegistryError;
use super::names::valid_name;

/// A request's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v2/`.
    Base,
    /// `/v2/_catalog`.
    Catalog,
    /// `/v2/<name>/tags/list`.
    Tags(String),
    /// `/v2/<name>/manifests/<reference>`.
    Manifest(String, String),
    /// `/v2/<name>/blobs/<digest>`.
    Blob(String, String),
    /// `/v2/<name>/blobs/uploads/`.
    Uploads(String),
    /// `/v2/<name>/blobs/uploads/<id>`.
    Upload(String, String),
    /// `/v2/<name>/referrers/<digest>`.
    Referrers(String, String),
}

impl Route {
    /// Parses a path; `NotFound` for paths outside the API, `NameInvalid` for a bad name.
    pub fn parse(path: &str) -> Result<Route, RegistryError> {
        let rest = path
            .strip_prefix("/v2/")
            .or_else(|| (path == "/v2").then_some(""));
        let rest = rest.ok_or(RegistryError::NotFound)?;
        if rest.is_empty() {
            return Ok(Route::Base);
        }
        if rest == "_catalog" {
            return Ok(Route::Catalog);
        }
        let named = |name: &str, route: Route| {
            if valid_name(name) {
                Ok(route)
            } else {
                Err(RegistryError::NameInvalid(name.to_string()))
            }
        };
        if let Some(name) = rest.strip_suffix("/tags/list") {
            return named(name, Route::Tags(name.into()));
        }
        if let Some(name) = rest
            .strip_suffix("/blobs/uploads/")
            .or_else(|| rest.strip_suffix("/blobs/uploads"))
        {
            return named(name, Route::Uploads(name.into()));
        }
        let split = |marker: &str| {
            let i = rest.rfind(marker)?;
            let tail = &rest[i + marker.len()..];
            (!tail.is_empty() && !tail.contains('/')).then(|| (&rest[..i], tail.to_string()))
        };
        if let Some((name, id)) = split("/blobs/uploads/") {
            return named(name, Route::Upload(name.into(), id));
        }
        if let Some((name, r)) = split("/manifests/") {
            return named(name, Route::Manifest(name.into(), r));
        }
        if let Some((name, d)) = split("/blobs/") {
            return named(name, Route::Blob(name.into(), d));
        }
        if let Some((name, d)) = split("/referrers/") {
            return named(name, Route::Referrers(name.into(), d));
        }
        Err(RegistryError::NotFound)
    }

    /// The route's name in metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Route::Base => "base",
            Route::Catalog => "catalog",
            Route::Tags(_) => "tags",
            Route::Manifest(..) => "manifests",
            Route::Blob(..) => "blobs",
            Route::Uploads(_) | Route::Upload(..) => "uploads",
            Route::Referrers(..) => "referrers",
        }
    }

    /// The repository it is about.
    pub fn repository(&self) -> Option<&str> {
        match self {
            Route::Base | Route::Catalog => None,
            Route::Tags(n) | Route::Uploads(n) => Some(n),
            Route::Manifest(n, _)
            | Route::Blob(n, _)
            | Route::Upload(n, _)
            | Route::Referrers(n, _) => Some(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_at_the_last_marker() {
        assert_eq!(Route::parse("/v2/").unwrap(), Route::Base);
        assert_eq!(
            Route::parse("/v2/a/blobs/b/manifests/latest").unwrap(),
            Route::Manifest("a/blobs/b".into(), "latest".into())
        );
        assert_eq!(
            Route::parse("/v2/a/b/blobs/uploads/").unwrap(),
            Route::Uploads("a/b".into())
        );
        assert_eq!(
            Route::parse("/v2/a/blobs/uploads/xyz").unwrap(),
            Route::Upload("a".into(), "xyz".into())
        );
        assert_eq!(
            Route::parse("/v2/a/tags/list").unwrap(),
            Route::Tags("a".into())
        );
        assert!(matches!(
            Route::parse("/v2/A/tags/list"),
            Err(RegistryError::NameInvalid(_))
        ));
        assert!(matches!(
            Route::parse("/v2/a/other"),
            Err(RegistryError::NotFound)
        ));
        assert!(matches!(Route::parse("/v3/"), Err(RegistryError::NotFound)));
    }
}
