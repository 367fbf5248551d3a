//! The canonical form `docker compose config` prints: compose-go's types marshalled with their
//! yaml/json tags, i.e. fields in the structs' order, empty ones left out, Go maps sorted by
//! key, byte sizes as strings, durations in Go's syntax.

use indexmap::IndexMap;

use super::out::Out;
use super::project::{FileObject, Network, Project, Volume};
use crate::load::{Node, Value};

/// Builds one mapping in order, leaving out what compose's `omitempty` leaves out.
#[derive(Default)]
pub(crate) struct M(pub Vec<(String, Out)>);

impl M {
    pub fn put(&mut self, k: &str, v: Out) -> &mut Self {
        self.0.push((k.to_owned(), v));
        self
    }
    pub fn str(&mut self, k: &str, v: &Option<String>) -> &mut Self {
        match v {
            Some(v) if !v.is_empty() => self.put(k, Out::str(v)),
            _ => self,
        }
    }
    pub fn show<T: ToString>(&mut self, k: &str, v: &Option<T>) -> &mut Self {
        match v {
            Some(v) => self.put(k, Out::str(v.to_string())),
            None => self,
        }
    }
    pub fn num<T: ToString>(&mut self, k: &str, v: Option<T>) -> &mut Self {
        match v {
            Some(v) => self.put(k, Out::num(v)),
            None => self,
        }
    }
    pub fn nonzero(&mut self, k: &str, v: i64) -> &mut Self {
        if v != 0 {
            self.put(k, Out::num(v));
        }
        self
    }
    pub fn float(&mut self, k: &str, v: Option<f64>) -> &mut Self {
        match v {
            // compose-go keeps these as float32
            Some(v) if v != 0.0 => self.put(k, Out::num(v as f32)),
            _ => self,
        }
    }
    pub fn flag(&mut self, k: &str, v: bool) -> &mut Self {
        if v {
            self.put(k, Out::Bool(true));
        }
        self
    }
    pub fn opt_flag(&mut self, k: &str, v: Option<bool>) -> &mut Self {
        match v {
            Some(v) => self.put(k, Out::Bool(v)),
            None => self,
        }
    }
    pub fn list(&mut self, k: &str, v: &[String]) -> &mut Self {
        if !v.is_empty() {
            self.put(k, Out::Seq(v.iter().map(Out::str).collect()));
        }
        self
    }
    pub fn seq(&mut self, k: &str, v: Vec<Out>) -> &mut Self {
        if !v.is_empty() {
            self.put(k, Out::Seq(v));
        }
        self
    }
    pub fn map(&mut self, k: &str, v: &IndexMap<String, String>) -> &mut Self {
        self.sorted(k, v.iter().map(|(k, v)| (k.clone(), Out::str(v))).collect())
    }
    pub fn opt_map(&mut self, k: &str, v: &IndexMap<String, Option<String>>) -> &mut Self {
        let entries = v
            .iter()
            .map(|(k, v)| (k.clone(), v.as_ref().map_or(Out::Null, Out::str)));
        self.sorted(k, entries.collect())
    }
    /// A Go map: sorted by key, left out when empty.
    pub fn sorted(&mut self, k: &str, mut entries: Vec<(String, Out)>) -> &mut Self {
        if !entries.is_empty() {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            self.put(k, Out::Map(entries));
        }
        self
    }
    /// A struct with `omitempty`: left out when it has nothing.
    pub fn sub(&mut self, k: &str, v: M) -> &mut Self {
        if !v.0.is_empty() {
            self.put(k, Out::Map(v.0));
        }
        self
    }
    /// A struct field (not a pointer) with `omitempty`: YAML leaves it out when empty, Go's
    /// JSON never does (`"ipam": {}`).
    pub fn value(&mut self, k: &str, v: M, f: Format) -> &mut Self {
        match f {
            Format::Json => self.put(k, Out::Map(v.0)),
            Format::Yaml => self.sub(k, v),
        }
    }
    /// A pointer to a struct: there when set, even if empty (`volume: {}`).
    pub fn ptr(&mut self, k: &str, v: Option<M>) -> &mut Self {
        match v {
            Some(v) => self.put(k, Out::Map(v.0)),
            None => self,
        }
    }
    pub fn done(self) -> Out {
        Out::Map(self.0)
    }
}

/// Which document: the JSON one differs in a few places (`command: null`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Yaml,
    Json,
}

impl Project {
    /// `docker compose config` (YAML).
    pub fn to_yaml(&self) -> String {
        self.to_out(Format::Yaml).to_yaml()
    }

    /// `docker compose config --format json`.
    pub fn to_json(&self) -> String {
        self.to_out(Format::Json).to_json()
    }

    /// The document, in compose's order for YAML (name, services, networks, volumes, secrets,
    /// configs, extensions) and Go's sorted map order for JSON.
    pub(crate) fn to_out(&self, f: Format) -> Out {
        let mut services: Vec<(String, Out)> = self
            .services
            .iter()
            .map(|(k, s)| (k.clone(), s.to_out(f)))
            .collect();
        services.sort_by(|a, b| a.0.cmp(&b.0));
        let mut m = M::default();
        m.put("name", Out::str(&self.name));
        m.put("services", Out::Map(services));
        m.sorted("networks", entries(&self.networks, |n| network(n, f)));
        m.sorted("volumes", entries(&self.volumes, volume));
        m.sorted("secrets", entries(&self.secrets, |s| file_object(s, true)));
        m.sorted("configs", entries(&self.configs, |c| file_object(c, false)));
        let mut ext: Vec<(String, Out)> = self
            .extensions
            .iter()
            .map(|(k, v)| (k.clone(), node_out(v)))
            .collect();
        ext.sort_by(|a, b| a.0.cmp(&b.0));
        m.0.extend(ext);
        if f == Format::Json {
            m.0.sort_by(|a, b| a.0.cmp(&b.0));
        }
        m.done()
    }

    /// `config --services`: the enabled services, dependencies first, else by name.
    pub fn service_names(&self) -> Vec<String> {
        let mut names: Vec<&String> = self.services.keys().collect();
        names.sort();
        let mut out: Vec<String> = Vec::new();
        fn visit(p: &Project, name: &str, out: &mut Vec<String>, seen: &mut Vec<String>) {
            if out.iter().any(|n| n == name) || seen.iter().any(|n| n == name) {
                return;
            }
            seen.push(name.to_owned());
            if let Some(s) = p.services.get(name) {
                let mut deps: Vec<&String> = s.depends_on.keys().collect();
                deps.sort();
                for d in deps {
                    visit(p, d, out, seen);
                }
                out.push(name.to_owned());
            }
        }
        let mut seen = Vec::new();
        for n in names {
            visit(self, n, &mut out, &mut seen);
        }
        out
    }

    /// `config --images`: each enabled service's image, in `service_names` order.
    pub fn image_names(&self) -> Vec<String> {
        let names = self.service_names();
        names
            .iter()
            .filter_map(|n| Some(self.services.get(n)?.image_name(&self.name)))
            .collect()
    }

    /// `config --volumes`, sorted.
    pub fn volume_names(&self) -> Vec<String> {
        sorted_keys(&self.volumes)
    }

    /// `config --networks`, sorted.
    pub fn network_names(&self) -> Vec<String> {
        sorted_keys(&self.networks)
    }
}

fn sorted_keys<T>(m: &IndexMap<String, T>) -> Vec<String> {
    let mut k: Vec<String> = m.keys().cloned().collect();
    k.sort();
    k
}

fn entries<T>(m: &IndexMap<String, T>, f: impl Fn(&T) -> Out) -> Vec<(String, Out)> {
    m.iter().map(|(k, v)| (k.clone(), f(v))).collect()
}

fn network(n: &Network, f: Format) -> Out {
    let mut m = M::default();
    m.str("name", &n.name)
        .str("driver", &n.driver)
        .map("driver_opts", &n.driver_opts);
    let mut im = M::default();
    if let Some(ipam) = &n.ipam {
        let pools = ipam.config.iter().map(|p| {
            let mut pm = M::default();
            pm.str("subnet", &p.subnet)
                .str("gateway", &p.gateway)
                .str("ip_range", &p.ip_range)
                .map("aux_addresses", &p.aux_addresses);
            pm.done()
        });
        im.str("driver", &ipam.driver)
            .seq("config", pools.collect())
            .map("options", &ipam.options);
    }
    m.value("ipam", im, f);
    m.flag("external", n.external)
        .flag("internal", n.internal)
        .flag("attachable", n.attachable)
        .map("labels", &n.labels)
        .opt_flag("enable_ipv4", n.enable_ipv4)
        .opt_flag("enable_ipv6", n.enable_ipv6);
    m.done()
}

fn volume(v: &Volume) -> Out {
    let mut m = M::default();
    m.str("name", &v.name)
        .str("driver", &v.driver)
        .map("driver_opts", &v.driver_opts)
        .flag("external", v.external)
        .map("labels", &v.labels);
    m.done()
}

/// A secret's content is never printed; a config's is unless it came from the environment.
fn file_object(o: &FileObject, secret: bool) -> Out {
    let content = match secret || o.environment.is_some() {
        true => None,
        false => o.content.clone(),
    };
    let mut m = M::default();
    m.str("name", &o.name)
        .str("file", &o.file)
        .str("environment", &o.environment)
        .str("content", &content)
        .flag("external", o.external)
        .map("labels", &o.labels);
    m.done()
}

/// An `x-*` value as written: plain scalars typed by YAML's core schema.
pub(crate) fn node_out(n: &Node) -> Out {
    match &n.value {
        Value::Null => Out::Null,
        Value::Scalar(s) if s.quoted => Out::str(&s.text),
        Value::Scalar(s) => match s.text.as_str() {
            "true" | "True" | "TRUE" => Out::Bool(true),
            "false" | "False" | "FALSE" => Out::Bool(false),
            "~" | "null" | "Null" | "NULL" => Out::Null,
            t if t.parse::<i64>().is_ok() || t.parse::<f64>().is_ok_and(f64::is_finite) => {
                Out::num(t)
            }
            t => Out::str(t),
        },
        Value::Seq(items) => Out::Seq(items.iter().map(node_out).collect()),
        Value::Map(m) => {
            let mut e: Vec<(String, Out)> =
                m.iter().map(|(k, v)| (k.clone(), node_out(v))).collect();
            e.sort_by(|a, b| a.0.cmp(&b.0));
            Out::Map(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_keep_their_yaml_types() {
        assert_eq!(node_out(&Node::scalar("3")), Out::num("3"));
        assert_eq!(node_out(&Node::scalar("true")), Out::Bool(true));
        assert_eq!(node_out(&Node::string("3")), Out::str("3"));
        assert_eq!(node_out(&Node::scalar("yes")), Out::str("yes"));
        assert_eq!(node_out(&Node::new(Value::Null)), Out::Null);
    }

    #[test]
    fn an_empty_project() {
        let p = Project {
            name: "e".into(),
            ..Project::default()
        };
        assert_eq!(p.to_yaml(), "name: e\nservices: {}\n");
        assert_eq!(p.to_json(), "{\n  \"name\": \"e\",\n  \"services\": {}\n}");
    }
}
