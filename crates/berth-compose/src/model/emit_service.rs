//! One service in `config`'s form: compose-go's `ServiceConfig` field order.

use super::deploy::{Deploy, Resource, UpdateConfig};
use super::emit::{Format, M, node_out};
use super::out::Out;
use super::parts::{Build, Healthcheck, Mount, Port, ServiceNetwork};
use super::service::Service;

impl Service {
    /// The service as `config` prints it.
    pub(crate) fn to_out(&self, f: Format) -> Out {
        let s = self;
        let mut m = M::default();
        m.list("profiles", &s.profiles)
            .map("annotations", &s.annotations)
            .opt_flag("attach", s.attach);
        if let Some(b) = &s.build {
            m.put("build", build(b));
        }
        m.list("cap_add", &s.cap_add)
            .list("cap_drop", &s.cap_drop)
            .str("cgroup_parent", &s.cgroup_parent)
            .float("cpus", s.cpus)
            .nonzero("cpu_shares", s.cpu_shares.unwrap_or(0));
        command(&mut m, "command", &s.command, f);
        let configs = s.configs.iter().map(file_ref).collect();
        m.seq("configs", configs)
            .str("container_name", &s.container_name);
        let deps = s.depends_on.iter().map(|(k, d)| {
            let mut dm = M::default();
            dm.put("condition", Out::str(d.condition.as_str()))
                .flag("restart", d.restart)
                .put("required", Out::Bool(d.required));
            (k.clone(), dm.done())
        });
        m.sorted("depends_on", deps.collect());
        if let Some(d) = &s.deploy {
            m.put("deploy", deploy(d, f));
        }
        let devices = s.devices.iter().map(|d| {
            let mut dm = M::default();
            dm.put("source", Out::str(&d.source))
                .put("target", Out::str(&d.target))
                .put("permissions", Out::str(&d.permissions));
            dm.done()
        });
        m.seq("devices", devices.collect())
            .list("dns", &s.dns)
            .list("dns_opt", &s.dns_opt)
            .list("dns_search", &s.dns_search)
            .str("domainname", &s.domainname);
        command(&mut m, "entrypoint", &s.entrypoint, f);
        m.opt_map("environment", &s.environment);
        let env_files = s.env_file.iter().map(|e| {
            let mut em = M::default();
            em.put("path", Out::str(&e.path));
            if !e.required {
                em.put("required", Out::Bool(false));
            }
            em.str("format", &e.format);
            em.done()
        });
        m.seq("env_file", env_files.collect())
            .list("expose", &s.expose)
            .list("external_links", &s.external_links);
        m.list("extra_hosts", &hosts(&s.extra_hosts))
            .list("group_add", &s.group_add)
            .str("hostname", &s.hostname);
        if let Some(h) = &s.healthcheck {
            m.put("healthcheck", healthcheck(h));
        }
        m.str("image", &s.image)
            .opt_flag("init", s.init)
            .str("ipc", &s.ipc)
            .map("labels", &s.labels)
            .list("links", &s.links);
        if let Some(l) = &s.logging {
            let mut lm = M::default();
            lm.str("driver", &l.driver).map("options", &l.options);
            m.put("logging", lm.done());
        }
        m.show("mem_limit", &s.mem_limit)
            .show("mem_reservation", &s.mem_reservation)
            .show("memswap_limit", &s.memswap_limit)
            .str("mac_address", &s.mac_address)
            .str("network_mode", &s.network_mode);
        let nets = s
            .networks
            .iter()
            .map(|(k, n)| (k.clone(), n.as_ref().map_or(Out::Null, service_network)));
        m.sorted("networks", nets.collect())
            .nonzero("oom_score_adj", s.oom_score_adj.unwrap_or(0))
            .str("pid", &s.pid)
            .nonzero("pids_limit", s.pids_limit.unwrap_or(0))
            .str("platform", &s.platform);
        m.seq("ports", s.ports.iter().map(port).collect())
            .flag("privileged", s.privileged)
            .str("pull_policy", &s.pull_policy)
            .flag("read_only", s.read_only)
            .show("restart", &s.restart)
            .str("runtime", &s.runtime)
            .num("scale", s.scale);
        m.seq("secrets", s.secrets.iter().map(file_ref).collect())
            .list("security_opt", &s.security_opt)
            .show("shm_size", &s.shm_size)
            .flag("stdin_open", s.stdin_open)
            .show("stop_grace_period", &s.stop_grace_period)
            .str("stop_signal", &s.stop_signal)
            .map("sysctls", &s.sysctls)
            .list("tmpfs", &s.tmpfs)
            .flag("tty", s.tty);
        let ulimits = s.ulimits.iter().map(|(k, u)| {
            let v = match u.soft == u.hard {
                true => Out::num(u.soft),
                false => Out::Map(vec![
                    ("soft".into(), Out::num(u.soft)),
                    ("hard".into(), Out::num(u.hard)),
                ]),
            };
            (k.clone(), v)
        });
        m.sorted("ulimits", ulimits.collect())
            .str("user", &s.user)
            .str("userns_mode", &s.userns_mode);
        m.seq("volumes", s.volumes.iter().map(mount).collect())
            .str("working_dir", &s.working_dir);
        let mut ext: Vec<(String, Out)> = s
            .extensions
            .iter()
            .map(|(k, v)| (k.clone(), node_out(v)))
            .collect();
        if f == Format::Yaml {
            ext.sort_by(|a, b| a.0.cmp(&b.0));
            m.0.extend(ext);
        }
        m.done()
    }
}

/// `command`/`entrypoint`: left out of YAML when unset, `null` in JSON (compose-go can't
/// omit it there: an empty list means "cleared").
fn command(m: &mut M, k: &str, v: &Option<Vec<String>>, f: Format) {
    match (v, f) {
        (Some(v), _) => {
            m.put(k, Out::Seq(v.iter().map(Out::str).collect()));
        }
        (None, Format::Json) => {
            m.put(k, Out::Null);
        }
        (None, Format::Yaml) => {}
    }
}

/// `extra_hosts` as compose prints them: `host=ip`, sorted.
fn hosts(h: &indexmap::IndexMap<String, Vec<String>>) -> Vec<String> {
    let mut l: Vec<String> = h
        .iter()
        .flat_map(|(k, ips)| ips.iter().map(move |ip| format!("{k}={ip}")))
        .collect();
    l.sort();
    l
}

fn build(b: &Build) -> Out {
    let mut m = M::default();
    m.str("context", &b.context)
        .str("dockerfile", &b.dockerfile)
        .str("dockerfile_inline", &b.dockerfile_inline)
        .opt_map("args", &b.args)
        .map("labels", &b.labels)
        .list("cache_from", &b.cache_from)
        .flag("no_cache", b.no_cache)
        .map("additional_contexts", &b.additional_contexts)
        .flag("pull", b.pull)
        .list("extra_hosts", &hosts(&b.extra_hosts))
        .str("network", &b.network)
        .str("target", &b.target)
        .show("shm_size", &b.shm_size)
        .list("tags", &b.tags)
        .list("platforms", &b.platforms);
    m.done()
}

fn file_ref(r: &super::parts::FileRef) -> Out {
    let mut m = M::default();
    m.put("source", Out::str(&r.source))
        .str("target", &r.target)
        .str("uid", &r.uid)
        .str("gid", &r.gid);
    if let Some(mode) = r.mode {
        m.put("mode", Out::str(format!("0{mode:o}")));
    }
    m.done()
}

fn deploy(d: &Deploy, f: Format) -> Out {
    let mut m = M::default();
    m.str("mode", &d.mode)
        .num("replicas", d.replicas)
        .map("labels", &d.labels);
    if let Some(u) = &d.update_config {
        m.put("update_config", update(u));
    }
    if let Some(u) = &d.rollback_config {
        m.put("rollback_config", update(u));
    }
    let mut r = M::default();
    r.ptr("limits", d.resources.limits.as_ref().map(resource))
        .ptr(
            "reservations",
            d.resources.reservations.as_ref().map(resource),
        );
    m.value("resources", r, f);
    if let Some(p) = &d.restart_policy {
        let mut pm = M::default();
        pm.str("condition", &p.condition)
            .show("delay", &p.delay)
            .num("max_attempts", p.max_attempts)
            .show("window", &p.window);
        m.put("restart_policy", pm.done());
    }
    m.value("placement", M::default(), f);
    m.done()
}

fn resource(r: &Resource) -> M {
    let mut m = M::default();
    m.float("cpus", r.cpus)
        .show("memory", &r.memory.filter(|b| b.0 != 0))
        .nonzero("pids", r.pids.unwrap_or(0));
    m
}

fn update(u: &UpdateConfig) -> Out {
    let mut m = M::default();
    m.num("parallelism", u.parallelism)
        .show("delay", &u.delay.filter(|d| !d.0.is_zero()))
        .str("failure_action", &u.failure_action)
        .show("monitor", &u.monitor.filter(|d| !d.0.is_zero()))
        .float("max_failure_ratio", u.max_failure_ratio)
        .str("order", &u.order);
    m.done()
}

fn healthcheck(h: &Healthcheck) -> Out {
    let mut m = M::default();
    if let Some(t) = &h.test {
        m.list("test", t);
    }
    m.show("timeout", &h.timeout)
        .show("interval", &h.interval)
        .num("retries", h.retries)
        .show("start_period", &h.start_period)
        .show("start_interval", &h.start_interval)
        .flag("disable", h.disable);
    m.done()
}

fn service_network(n: &ServiceNetwork) -> Out {
    let mut m = M::default();
    m.list("aliases", &n.aliases)
        .nonzero("gw_priority", n.gw_priority)
        .str("ipv4_address", &n.ipv4_address)
        .str("ipv6_address", &n.ipv6_address)
        .str("mac_address", &n.mac_address)
        .nonzero("priority", n.priority);
    m.done()
}

fn port(p: &Port) -> Out {
    let mut m = M::default();
    m.str("name", &p.name)
        .put("mode", Out::str(&p.mode))
        .str("host_ip", &p.host_ip)
        .put("target", Out::num(p.target))
        .str("published", &p.published)
        .put("protocol", Out::str(&p.protocol))
        .str("app_protocol", &p.app_protocol);
    m.done()
}

fn mount(v: &Mount) -> Out {
    let mut m = M::default();
    m.put("type", Out::str(v.kind.as_str()))
        .str("source", &v.source)
        .put("target", Out::str(&v.target))
        .flag("read_only", v.read_only)
        .str("consistency", &v.consistency);
    m.ptr(
        "bind",
        v.bind.as_ref().map(|b| {
            let mut bm = M::default();
            bm.str("selinux", &b.selinux)
                .str("propagation", &b.propagation);
            if !b.create_host_path {
                bm.put("create_host_path", Out::Bool(false));
            }
            bm
        }),
    );
    m.ptr(
        "volume",
        v.volume.as_ref().map(|o| {
            let mut vm = M::default();
            vm.flag("nocopy", o.nocopy).str("subpath", &o.subpath);
            vm
        }),
    );
    m.ptr(
        "tmpfs",
        v.tmpfs.as_ref().map(|t| {
            let mut tm = M::default();
            tm.show("size", &t.size.filter(|b| b.0 != 0))
                .num("mode", t.mode);
            tm
        }),
    );
    m.done()
}
