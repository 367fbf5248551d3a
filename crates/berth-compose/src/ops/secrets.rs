//! A service's `secrets` and `configs`: from a file, bind-mounted read-only; from `content` or
//! an `environment` variable, written into the container after it is created and before it
//! starts (a tar put at `/`, with the entry's `uid`, `gid` and `mode`), as Compose does.

use bytes::Bytes;

use super::api::Api;
use super::error::{Error, project as err};
use crate::model::{FileObject, FileRef, Project, Service};

/// Where a secret's or config's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A host file, bind-mounted.
    File(String),
    /// The value itself, written into the container.
    Content(String),
}

/// One secret or config as a container gets it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its path in the container.
    pub target: String,
    /// Its bytes.
    pub source: Source,
    /// `uid`, `gid`, `mode` (only for written ones).
    pub owner: (u64, u64, u32),
}

/// `s`'s secrets and configs.
pub fn of(p: &Project, s: &Service) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    for r in &s.secrets {
        let target = match &r.target {
            Some(t) if t.starts_with('/') => t.clone(),
            Some(t) => format!("/run/secrets/{t}"),
            None => format!("/run/secrets/{}", r.source),
        };
        out.push(entry(s, "secret", r, p.secrets.get(&r.source), target)?);
    }
    for r in &s.configs {
        let target = r.target.clone().unwrap_or_else(|| format!("/{}", r.source));
        out.push(entry(s, "config", r, p.configs.get(&r.source), target)?);
    }
    Ok(out)
}

fn entry(
    s: &Service,
    what: &str,
    r: &FileRef,
    obj: Option<&FileObject>,
    target: String,
) -> Result<Entry, Error> {
    let obj = obj.ok_or_else(|| {
        err(format!(
            "service {:?} refers to undefined {what} {}: invalid compose project",
            s.name, r.source
        ))
    })?;
    let owned = r.uid.is_some() || r.gid.is_some() || r.mode.is_some();
    let source = match (&obj.file, &obj.content) {
        (Some(_), _) if owned => {
            return Err(err(format!(
                "services.{}.{what}s.{}: uid, gid and mode are not supported by berth for {what}s from files",
                s.name, r.source
            )));
        }
        (Some(file), _) => Source::File(file.clone()),
        (None, Some(content)) => Source::Content(content.clone()),
        (None, None) if obj.external => {
            return Err(err(format!(
                "{what}s.{}: external {what}s are not supported by berth compose",
                r.source
            )));
        }
        (None, None) => {
            let var = obj.environment.as_deref().unwrap_or_default();
            return Err(err(format!(
                "{what}s.{}: environment variable {var:?} is not set",
                r.source
            )));
        }
    };
    let num = |v: &Option<String>, key: &str| -> Result<u64, Error> {
        v.as_deref().map_or(Ok(0), |v| {
            v.parse().map_err(|_| {
                err(format!(
                    "services.{}.{what}s.{}.{key}: {v:?} is not a number",
                    s.name, r.source
                ))
            })
        })
    };
    let mode = r.mode.unwrap_or(0o444);
    Ok(Entry {
        target,
        source,
        owner: (num(&r.uid, "uid")?, num(&r.gid, "gid")?, mode),
    })
}

/// The written entries as a tar to put at `/` (parent directories included).
fn tar_of(entries: &[&Entry]) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dirs: Vec<String> = Vec::new();
    for e in entries {
        let Source::Content(text) = &e.source else {
            continue;
        };
        let rel = e.target.trim_start_matches('/');
        let mut parent = String::new();
        for part in rel
            .split('/')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .skip(1)
            .rev()
        {
            parent = format!("{parent}{part}/");
            if !dirs.contains(&parent) {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                h.set_uid(0);
                h.set_gid(0);
                h.set_mtime(0);
                h.set_cksum();
                b.append_data(&mut h, &parent, std::io::empty())?;
                dirs.push(parent.clone());
            }
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(e.owner.2);
        h.set_uid(e.owner.0);
        h.set_gid(e.owner.1);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, rel, text.as_bytes())?;
    }
    b.into_inner()
}

/// Writes `s`'s secrets and configs given by value into created container `id`.
pub async fn write(api: &Api, p: &Project, s: &Service, id: &str) -> Result<(), Error> {
    let all = of(p, s)?;
    let written: Vec<&Entry> = all
        .iter()
        .filter(|e| matches!(e.source, Source::Content(_)))
        .collect();
    if written.is_empty() {
        return Ok(());
    }
    let tar = tar_of(&written).map_err(|e| err(format!("writing {}'s secrets: {e}", s.name)))?;
    api.put_archive(id, "/", Bytes::from(tar)).await?;
    Ok(())
}

/// Whether `s` has secrets or configs given by value (which a rolling update cannot carry).
pub fn has_written(p: &Project, s: &Service) -> Result<bool, Error> {
    Ok(of(p, s)?
        .iter()
        .any(|e| matches!(e.source, Source::Content(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_entries_come_with_their_directories_and_owners() {
        let e = Entry {
            target: "/run/secrets/token".into(),
            source: Source::Content("s3cret".into()),
            owner: (1000, 2000, 0o400),
        };
        let tar = tar_of(&[&e]).unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let got: Vec<(String, u32, u64)> = a
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mode().unwrap(),
                    e.header().uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("run/".into(), 0o755, 0),
                ("run/secrets/".into(), 0o755, 0),
                ("run/secrets/token".into(), 0o400, 1000)
            ]
        );
    }
}
