//! `config --hash`: the digest of what a service's containers are made from, stored on them
//! (`com.docker.compose.config-hash`) so `up` can tell when to recreate.
//!
//! Like compose v2's `ServiceHash`, it is the sha256 of the service's compact JSON (berth's
//! canonical JSON, so the digests are berth's own, not compose's) without the fields that don't
//! change a container: `build` (the image's digest matters, not how it was made),
//! `pull_policy`, `scale` and `deploy.replicas` (how many, not what), `depends_on` (start
//! order) and `profiles` (selection).

use sha2::{Digest, Sha256};

use super::emit::Format;
use super::out::Out;
use super::service::Service;

/// Fields left out of the hash; see the module's documentation.
const IGNORED: &[&str] = &["build", "pull_policy", "scale", "depends_on", "profiles"];

impl Service {
    /// The config hash, 64 hex digits.
    pub fn config_hash(&self) -> String {
        let Out::Map(fields) = self.to_out(Format::Json) else {
            return String::new();
        };
        let fields = fields
            .into_iter()
            .filter(|(k, _)| !IGNORED.contains(&k.as_str()))
            .map(|(k, v)| match (k.as_str(), v) {
                ("deploy", Out::Map(d)) => {
                    let d = d.into_iter().filter(|(k, _)| k != "replicas").collect();
                    (k, Out::Map(d))
                }
                (_, v) => (k, v),
            })
            .collect();
        hex::encode(Sha256::digest(Out::Map(fields).to_compact_json()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_blind_to_replicas() {
        let a = Service {
            name: "a".into(),
            image: Some("x".into()),
            ..Service::default()
        };
        let mut b = a.clone();
        b.deploy = Some(crate::model::Deploy {
            replicas: Some(5),
            ..Default::default()
        });
        let mut c = a.clone();
        c.deploy = Some(Default::default());
        assert_eq!(a.config_hash(), a.config_hash());
        // `deploy: {replicas: 5}` hashes as an empty `deploy`.
        assert_eq!(b.config_hash(), c.config_hash());
        let mut d = a.clone();
        d.image = Some("y".into());
        assert_ne!(a.config_hash(), d.config_hash());
    }
}
