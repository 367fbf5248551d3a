//! `pull`: the daemon pulls (`POST /images/create?fromImage=`), the client sends the
//! registry's stored credentials and renders the progress, as the docker CLI does.

use anyhow::{Result, bail};
use berth_client::{Client, ClientError};
use berth_image::Reference;
use hyper::Method;
use hyper::body::Incoming;

use super::enc;
use super::jsonmessage::{self, Renderer};
use super::login::prompt_credentials;
use super::registry_auth::{self, AuthConfig, ConfigFile, INDEX_SERVER, convert_to_hostname};

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Download all tagged images in the repository
    #[arg(short = 'a', long = "all-tags")]
    all_tags: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long, env = "DOCKER_DEFAULT_PLATFORM")]
    platform: Option<String>,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    trust: ContentTrust,
    /// NAME[:TAG|@DIGEST]
    name: String,
}

/// docker's `--disable-content-trust` (default true unless `DOCKER_CONTENT_TRUST` says
/// otherwise). berth has no Notary client: only the untrusted way is taken.
#[derive(Debug, clap::Args)]
pub struct ContentTrust {
    /// Skip image verification (berth does not verify: only true)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_name = "BOOL", value_parser = go_bool)]
    disable_content_trust: Option<bool>,
}

/// Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

impl ContentTrust {
    /// Refuses content trust by name, where docker would sign or verify.
    pub(super) fn check(&self) -> Result<()> {
        let trusted = match self.disable_content_trust {
            Some(disabled) => !disabled,
            // As docker: a value that is not a boolean turns trust on.
            None => std::env::var("DOCKER_CONTENT_TRUST")
                .ok()
                .filter(|v| !v.is_empty())
                .is_some_and(|v| go_bool(&v).unwrap_or(true)),
        };
        if trusted {
            bail!(
                "berth does not sign or verify images with Docker Content Trust (Notary): use --disable-content-trust (the default) and unset DOCKER_CONTENT_TRUST"
            );
        }
        Ok(())
    }
}

/// Parses and normalizes `s` as docker does, with docker's words for an upper-case name (the
/// repository as docker completes it: `library/UPPER`).
pub(super) fn parse_reference(s: &str) -> Result<Reference> {
    match Reference::parse(s) {
        Err(berth_image::ReferenceError::Uppercase(_)) => {
            let (first, rest) = s.split_once('/').unwrap_or(("", s));
            let docker_io = first.is_empty()
                || (!first.contains(['.', ':'])
                    && first != "localhost"
                    && first.to_lowercase() == first);
            let mut remainder = if docker_io { s } else { rest }.to_string();
            if docker_io && first.is_empty() {
                remainder = format!("library/{remainder}");
            }
            let remote = remainder.split(':').next().unwrap_or("");
            bail!("invalid reference format: repository name ({remote}) must be lowercase")
        }
        r => Ok(r?),
    }
}

/// `r` with `latest` where it names neither a tag nor a digest, saying so as docker does.
pub(super) fn with_default_tag(r: Reference, all: bool, quiet: bool) -> Result<Reference> {
    let name_only = r.tag().is_none() && r.digest().is_none();
    if all && !name_only {
        bail!("tag can't be used with --all-tags/-a");
    }
    if all || !name_only {
        return Ok(r);
    }
    if !quiet {
        println!("Using default tag: latest");
    }
    Ok(r.with_default_tag())
}

pub async fn pull(client: &Client, a: PullArgs) -> Result<u8> {
    let r = parse_reference(&a.name)?;
    if r.digest().is_none() {
        a.trust.check()?;
    }
    let r = with_default_tag(r, a.all_tags, a.quiet)?;
    // In the order of Go's url.Values, sorted by key.
    let mut path = format!("/images/create?fromImage={}", enc(&r.repository()));
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        path.push_str(&format!("&platform={}", enc(&p.to_lowercase())));
    }
    if !a.all_tags {
        let tag = r.digest().map_or_else(
            || r.tag().unwrap_or("latest").to_string(),
            |d| d.to_string(),
        );
        path.push_str(&format!("&tag={}", enc(&tag)));
    }
    let cfg = ConfigFile::load_default();
    let body = post_with_auth(client, &path, &cfg, r.domain(), "pull").await?;
    if a.quiet {
        let mut out = Renderer::new(std::io::sink(), false);
        jsonmessage::display(body, &mut out, &mut |_| {}).await?;
    } else {
        jsonmessage::display(body, &mut Renderer::stdout(), &mut |_| {}).await?;
    }
    println!("{r}");
    Ok(0)
}

/// POSTs `path` with the stored credentials of `domain` in `X-Registry-Auth`; when the daemon
/// answers 401, asks for credentials and tries once more, as docker's privilege function.
pub(super) async fn post_with_auth(
    client: &Client,
    path: &str,
    cfg: &ConfigFile,
    domain: &str,
    command: &str,
) -> Result<Incoming> {
    let auth = registry_auth::for_domain(cfg, domain).encode();
    let send = |header: String| async move {
        client
            .request_with_headers(Method::POST, path, None, &[("X-Registry-Auth", &header)])
            .await
    };
    match send(auth).await {
        Err(ClientError::Api { status: 401, .. }) => {
            let again = login_prior(cfg, domain, command)?;
            Ok(send(again).await?.into_body())
        }
        r => Ok(r?.into_body()),
    }
}

/// docker's `RegistryAuthenticationPrivilegedFunc`: prompts, and encodes what was typed
/// (without storing it). As docker, it speaks of Docker Hub whatever the registry.
fn login_prior(cfg: &ConfigFile, domain: &str, command: &str) -> Result<String> {
    println!("\nLogin prior to {command}:");
    let key = registry_auth::auth_key(domain);
    let key = if key == INDEX_SERVER {
        key.to_string()
    } else {
        convert_to_hostname(key)
    };
    let stored = cfg.get(&key).unwrap_or_else(|e| {
        eprintln!("Unable to retrieve stored credentials for {INDEX_SERVER}, error: {e:#}.");
        AuthConfig::default()
    });
    let typed = prompt_credentials("", "", &stored.username, INDEX_SERVER)?;
    Ok(typed.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_default_tags() {
        let r = |s| Reference::parse(s).unwrap();
        let e = with_default_tag(r("x:1"), true, false).unwrap_err();
        assert_eq!(e.to_string(), "tag can't be used with --all-tags/-a");
        let t = with_default_tag(r("x"), false, true).unwrap();
        assert_eq!(t.to_string(), "docker.io/library/x:latest");
        let all = with_default_tag(r("x"), true, true).unwrap();
        assert_eq!(all.to_string(), "docker.io/library/x");
    }

    #[test]
    fn upper_case_names_in_dockers_words() {
        let e = |s| parse_reference(s).unwrap_err().to_string();
        assert_eq!(
            e("UPPER:v1"),
            "invalid reference format: repository name (library/UPPER) must be lowercase"
        );
        assert_eq!(
            e("user/Repo"),
            "invalid reference format: repository name (user/Repo) must be lowercase"
        );
        assert_eq!(
            e("localhost:5000/Repo:1"),
            "invalid reference format: repository name (Repo) must be lowercase"
        );
    }

    #[test]
    fn go_booleans() {
        assert_eq!(go_bool("T"), Ok(true));
        assert_eq!(go_bool("0"), Ok(false));
        go_bool("yes").unwrap_err();
    }
}
