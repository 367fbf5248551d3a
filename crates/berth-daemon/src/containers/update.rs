//! `docker update`: new limits for a container, merged into its record as Docker merges them
//! (a field left at zero keeps its value), written into the cgroup of a running one and into
//! its bundle's `config.json`; a stopped one gets them at its next start.
//!
//! Paused containers (once the record has that status) must be updated live as running ones
//! are: Docker allows it, and the cgroup files take writes while frozen.

use std::sync::Arc;

use super::resources::Cgroup;
use super::{Container, Containers, Record, Resources, RestartPolicy, Status};
use crate::error::{Error, Result};

/// What an update asks for: zero, empty and `None` fields leave the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// Memory, CPU time and tasks.
    pub resources: Resources,
    /// Cpusets, reservation, block I/O (the other fields of [`Cgroup`] are not updatable).
    pub cgroup: Cgroup,
    /// A new restart policy; `None`: unchanged.
    pub restart: Option<RestartPolicy>,
}

impl Containers {
    /// Applies `u` to container `c`; Docker's conflict messages, everything wrapped
    /// `Cannot update container <id>: ...`.
    pub async fn update_resources(self: &Arc<Self>, c: &Arc<Container>, u: Update) -> Result<()> {
        let _op = c.op.lock().await;
        let rec = c.record();
        let wrap = |e: Error| {
            Error::new(
                e.kind,
                format!("Cannot update container {}: {}", rec.id, e.message),
            )
        };
        if matches!(rec.state.status, Status::Removing | Status::Dead) {
            return Err(wrap(Error::conflict(
                "container is marked for removal and cannot be \"update\"",
            )));
        }
        if rec.spec.auto_remove && u.restart.is_some_and(|p| p != RestartPolicy::No) {
            return Err(wrap(Error::conflict(
                "Restart policy cannot be updated because AutoRemove is enabled for the container",
            )));
        }
        let (resources, cgroup) = merge(&rec.spec.resources, &rec.spec.cgroup, &u).map_err(wrap)?;
        let mut next = rec.clone();
        next.spec.resources = resources;
        next.spec.cgroup = cgroup;
        if rec.state.status == Status::Running {
            let this = self.clone();
            let live = next.clone();
            let lift_pids = u.resources.pids_limit.is_some_and(|p| p <= 0);
            crate::blocking::run("updating a container's cgroup", move || {
                this.apply(&live, lift_pids)
            })
            .await
            .map_err(wrap)?;
        }
        let rec = self
            .save(c, |r| {
                r.spec.resources = resources;
                r.spec.cgroup = next.spec.cgroup.clone();
            })
            .await
            .map_err(wrap)?;
        if let Some(policy) = u.restart {
            self.set_restart_policy(c, policy).await.map_err(wrap)?;
        }
        self.event("update", &rec, &[]);
        Ok(())
    }

    /// Records `policy` as container `c`'s restart policy (`update --restart`, checked). The
    /// restart manager reads the policy from the record at each exit, so the next exit obeys
    /// it; that is all of Docker's `UpdateMonitor`.
    pub async fn set_restart_policy(
        self: &Arc<Self>,
        c: &Arc<Container>,
        policy: RestartPolicy,
    ) -> Result<()> {
        self.save(c, |r| r.spec.restart = policy).await.map(drop)
    }

    /// Writes the limits of `rec` into its running container's cgroup, through its runtime,
    /// and into its bundle (where a later `runc update` or restart reads them); `lift_pids`:
    /// the update asked for no task limit (`-1`), which the OCI form must then say.
    fn apply(&self, rec: &Record, lift_pids: bool) -> Result<()> {
        let mut limits = super::spec::limits(&rec.spec.resources, &rec.spec.cgroup)?
            .to_oci()
            .map_err(|e| Error::internal("building the OCI resources", e))?;
        if lift_pids {
            let unlimited = oci_spec::runtime::LinuxPidsBuilder::default()
                .limit(-1)
                .build()
                .map_err(|e| Error::internal("building the OCI resources", e))?;
            limits.set_pids(Some(unlimited));
        }
        let runtime = super::spec::runtime(&rec.spec.runtime, &self.cfg.runtimes)?;
        let state_root = self
            .cfg
            .runtimes
            .state_root(&self.cfg.exec_root, &rec.spec.runtime);
        runtime
            .open(&state_root)
            .update(&rec.id, &rec.spec.cgroup.path(&rec.id), &limits)
            .map_err(|e| Error::internal_msg(e.to_string()))?;
        let file = self.paths(&rec.id).bundle.join("config.json");
        let mut oci = oci_spec::runtime::Spec::load(&file)
            .map_err(|e| Error::internal(&format!("reading {}", file.display()), e))?;
        if let Some(linux) = oci.linux_mut() {
            let devices = linux.resources().as_ref().and_then(|r| r.devices().clone());
            let mut all = limits;
            all.set_devices(devices);
            linux.set_resources(Some(all));
        }
        oci.save(&file)
            .map_err(|e| Error::internal(&format!("writing {}", file.display()), e))
    }
}

/// Docker's `UpdateContainer`: the CPU conflicts against what is set, then each non-zero field
/// replaces the recorded one.
fn merge(cur: &Resources, cg: &Cgroup, u: &Update) -> Result<(Resources, Cgroup)> {
    let (new, mut cur) = (&u.resources, *cur);
    let conflict = |m: &str| Err(Error::conflict(format!("Conflicting options: {m}")));
    if new.nano_cpus > 0 && cur.cpu_period > 0 {
        return conflict("Nano CPUs cannot be updated as CPU Period has already been set");
    }
    if new.nano_cpus > 0 && cur.cpu_quota > 0 {
        return conflict("Nano CPUs cannot be updated as CPU Quota has already been set");
    }
    if new.cpu_period > 0 && cur.nano_cpus > 0 {
        return conflict("CPU Period cannot be updated as NanoCPUs has already been set");
    }
    if new.cpu_quota > 0 && cur.nano_cpus > 0 {
        return conflict("CPU Quota cannot be updated as NanoCPUs has already been set");
    }
    // Docker records the swap limit a memory limit implies (twice it); berth keeps 0 for that
    // until now, when a new memory limit would otherwise change it.
    if cur.memory > 0 && cur.memory_swap == 0 {
        cur.memory_swap = cur.memory * 2;
    }
    let set = |v: i64, old: &mut i64| {
        if v != 0 {
            *old = v;
        }
    };
    set(new.cpu_shares, &mut cur.cpu_shares);
    set(new.nano_cpus, &mut cur.nano_cpus);
    set(new.cpu_period, &mut cur.cpu_period);
    set(new.cpu_quota, &mut cur.cpu_quota);
    if new.memory != 0 {
        if new.memory > cur.memory_swap && new.memory_swap == 0 {
            return Err(Error::conflict(
                "Memory limit should be smaller than already set memoryswap limit, update the \
                 memoryswap at the same time",
            ));
        }
        cur.memory = new.memory;
    }
    set(new.memory_swap, &mut cur.memory_swap);
    // -1 (no limit) is kept as Docker keeps it: inspect shows it.
    if new.pids_limit.is_some() {
        cur.pids_limit = new.pids_limit;
    }
    let (new, mut cg) = (&u.cgroup, cg.clone());
    if new.blkio_weight != 0 {
        cg.blkio_weight = new.blkio_weight;
    }
    if !new.cpuset_cpus.is_empty() {
        cg.cpuset_cpus = new.cpuset_cpus.clone();
    }
    if !new.cpuset_mems.is_empty() {
        cg.cpuset_mems = new.cpuset_mems.clone();
    }
    if new.memory_reservation != 0 {
        cg.memory_reservation = new.memory_reservation;
    }
    if new.cpu_rt_period != 0 {
        cg.cpu_rt_period = new.cpu_rt_period;
    }
    if new.cpu_rt_runtime != 0 {
        cg.cpu_rt_runtime = new.cpu_rt_runtime;
    }
    Ok((cur, cg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(cur: Resources, u: Update) -> Result<Resources> {
        merge(&cur, &Cgroup::default(), &u).map(|(r, _)| r)
    }

    fn update(r: Resources) -> Update {
        Update {
            resources: r,
            ..Update::default()
        }
    }

    #[test]
    fn cpu_conflicts_are_dockers() {
        let nano = Resources {
            nano_cpus: 500_000_000,
            ..Resources::default()
        };
        let period = update(Resources {
            cpu_period: 50_000,
            ..Resources::default()
        });
        assert_eq!(
            merged(nano, period).unwrap_err().message,
            "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"
        );
        let quota = Resources {
            cpu_quota: 50_000,
            ..Resources::default()
        };
        let cpus = update(Resources {
            nano_cpus: 1_000_000_000,
            ..Resources::default()
        });
        assert_eq!(
            merged(quota, cpus).unwrap_err().message,
            "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set"
        );
    }

    #[test]
    fn only_set_fields_replace_and_memory_stays_below_swap() {
        let rec = Resources {
            memory: 32 << 20,
            cpu_shares: 512,
            pids_limit: Some(10),
            ..Resources::default()
        };
        let r = merged(
            rec,
            update(Resources {
                memory: 48 << 20,
                ..Resources::default()
            }),
        )
        .unwrap();
        assert_eq!((r.memory, r.memory_swap), (48 << 20, 64 << 20));
        assert_eq!((r.cpu_shares, r.pids_limit), (512, Some(10)));
        let err = merged(
            rec,
            update(Resources {
                memory: 128 << 20,
                ..Resources::default()
            }),
        )
        .unwrap_err();
        assert!(
            err.message.starts_with("Memory limit should be smaller"),
            "{err}"
        );
        let r = merged(
            rec,
            update(Resources {
                memory: 128 << 20,
                memory_swap: 256 << 20,
                pids_limit: Some(-1),
                ..Resources::default()
            }),
        )
        .unwrap();
        assert_eq!((r.memory_swap, r.pids_limit), (256 << 20, Some(-1)));
    }
}
