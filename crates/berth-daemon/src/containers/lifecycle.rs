//! Start, stop, kill, wait and remove; the task that notices a container's exit; and reconnecting
//! to running containers after a daemon restart.

use std::sync::Arc;
use std::time::Duration;

use berth_core::{ErrorKind, HasKind};
use berth_runtime::{MonitorConfig, MonitorHandle, StartError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Container, Containers, Record, Status, ZERO_TIME, spec};
use crate::error::{Error, Result};

/// What a start prepared before its bundle is written: its network, the container whose
/// namespace it shares (`--network container:`), its links.
struct Prepared {
    attached: super::network::Attached,
    shared: Option<Record>,
    linked: super::links::Linked,
    /// Its PID, IPC, UTS and cgroup namespaces and its /dev/shm (`namespaces.rs`).
    namespaces: berth_runtime::namespaces::Shared,
}

/// What `wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    /// The container is not running (returns at once if it is not).
    NotRunning,
    /// The container's next exit.
    NextExit,
    /// The container is removed.
    Removed,
}

impl Containers {
    fn socket(&self, id: &str) -> std::path::PathBuf {
        self.cfg.exec_root.join(format!("{}.sock", &id[..32]))
    }

    /// Starts a created or exited container for a user: its restart count and back-off
    /// begin again.
    pub async fn start(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        let _op = c.op.lock().await;
        self.start_locked(c, true).await
    }

    /// Starts `c` with its lifecycle lock held; `by_user` is false for a policy's restart.
    pub(super) async fn start_locked(
        self: &Arc<Self>,
        c: &Arc<Container>,
        by_user: bool,
    ) -> Result<()> {
        let rec = c.record();
        if c.restart.lock().expect("restart lock").removing {
            return Err(Error::conflict(format!(
                "container {} is marked for removal and cannot be started",
                rec.id
            )));
        }
        match rec.state.status {
            Status::Running if rec.state.paused => {
                return Err(Error::conflict(
                    "cannot start a paused container, try unpause instead",
                ));
            }
            Status::Running => {
                return Err(Error::new(
                    ErrorKind::NotModified,
                    "container already started",
                ));
            }
            Status::Restarting if by_user => {
                return Err(Error::new(
                    ErrorKind::NotModified,
                    "container already started",
                ));
            }
            Status::Removing | Status::Dead => {
                return Err(Error::conflict(format!(
                    "container {} is marked for removal and cannot be started",
                    rec.id
                )));
            }
            Status::Created | Status::Exited | Status::Restarting => {}
        }
        if by_user {
            c.restart.lock().expect("restart lock").reset();
        }
        let this = self.clone();
        let launched = {
            let rec = rec.clone();
            crate::blocking::run("starting a container", move || this.launch(&rec)).await
        };
        match launched {
            Ok((handle, pid)) => self.started(c, handle, pid, by_user).await,
            Err(e) => {
                // The runtime's code (127 not found, 126 not executable); 128 for the rest.
                let code = e.code.unwrap_or(128);
                self.save(c, |r| {
                    r.state.error = e.message.clone();
                    r.state.exit_code = code;
                    if r.state.status == Status::Restarting {
                        r.state.status = Status::Exited;
                    }
                    if by_user {
                        r.state.restart_count = 0;
                        r.state.manually_stopped = false;
                    }
                })
                .await?;
                Err(e)
            }
        }
    }

    /// Everything from the network and the bundle to the monitor's answer. Blocks.
    fn launch(&self, rec: &Record) -> Result<(MonitorHandle, i32)> {
        let paths = self.paths(&rec.id);
        self.make_bind_sources(rec)?;
        self.mount_volumes(rec)?;
        let launched = self
            .mount_shm(rec)
            .and_then(|()| self.spawn_monitor(rec, &paths));
        if launched.is_err() {
            self.network.detach(&rec.id);
            self.unmount_volumes(rec);
            self.unmount_shm(rec);
        }
        launched
    }

    fn spawn_monitor(
        &self,
        rec: &Record,
        paths: &super::files::Paths,
    ) -> Result<(MonitorHandle, i32)> {
        let linked = self.resolve_links(rec)?;
        let namespaces = self.shared_namespaces(rec)?;
        let (attached, shared) = match &rec.spec.network {
            super::NetworkMode::Container { id, .. } => {
                let (a, other) = self.join_container(id)?;
                (a, Some(other))
            }
            _ => (self.network.attach(rec)?, None),
        };
        let start = Prepared {
            attached,
            shared,
            linked,
            namespaces,
        };
        let monitor = self.write_bundle(rec, paths, &start)?;
        let stderr = std::fs::File::create(&paths.monitor_log)
            .map_err(|e| Error::internal("creating monitor log", e))?;
        MonitorHandle::spawn(
            &self.cfg.exe,
            &paths.monitor_config,
            &monitor.socket,
            stderr,
        )
        .map_err(|e| match &e {
            StartError::Monitor(_) => Error::internal("starting container", e),
            _ => Error::new(e.kind(), e.to_string()).with_code(i64::from(e.exit_code())),
        })
    }

    /// The namespace of running container `id` (`--network container:<id>`), and its record.
    fn join_container(&self, id: &str) -> Result<(super::network::Attached, Record)> {
        let other = self.get(id)?.record();
        if other.state.status != Status::Running {
            return Err(Error::conflict(format!(
                "cannot join network of a non running container: {}",
                other.id
            )));
        }
        let network = match other.spec.network {
            super::NetworkMode::Host => berth_runtime::Network::Host,
            // Whatever the other's mode, its process is in the namespace to join.
            _ => berth_runtime::Network::Join(format!("/proc/{}/ns/net", other.state.pid).into()),
        };
        Ok((super::network::Attached::local(network), other))
    }

    /// Writes the OCI bundle, the /etc files, the log and the monitor's config of a start.
    fn write_bundle(
        &self,
        rec: &Record,
        paths: &super::files::Paths,
        start: &Prepared,
    ) -> Result<MonitorConfig> {
        let runtime = spec::runtime(&rec.spec.runtime, &self.cfg.runtimes)?;
        let mut run = self.run_spec(rec, paths, start, &runtime)?;
        run.capabilities = rec.spec.security.capabilities()?;
        run.shared = start.namespaces.clone();
        let filter = self.filters.filter(&rec.spec.security, &run.capabilities)?;
        run.seccomp = filter.as_ref().map(|(oci, _)| oci.clone());
        run.no_new_privileges = rec
            .spec
            .security
            .no_new_privileges
            .unwrap_or(self.cfg.security.no_new_privileges);
        run.userns = crate::userns::container_map(&self.cfg.security, &rec.spec.security);
        if run.userns.is_some() {
            crate::userns::drop_unmappable_sysctls(&mut run.sysctls, &rec.spec.limits.sysctls);
        }
        run.userns_path = crate::userns::userns_to_join(
            &self.cfg.security,
            rec,
            start.attached.userns.as_ref(),
            start.shared.as_ref(),
        );
        let oci = run
            .to_spec()
            .map_err(|e| Error::internal("building the OCI spec", e))?;
        if start.shared.is_none() {
            self.write_etc(rec, paths, &run.hostname, start)?;
        }
        std::fs::create_dir_all(&paths.bundle)
            .map_err(|e| Error::internal("creating bundle", e))?;
        std::fs::write(
            paths.bundle.join("config.json"),
            serde_json::to_vec_pretty(&oci).expect("spec serializes"),
        )
        .map_err(|e| Error::internal("writing config.json", e))?;
        let compiled = paths.bundle.join(berth_runtime::seccomp::BUNDLE_FILE);
        match &filter {
            Some((_, c)) => c
                .write(&compiled)
                .map_err(|e| Error::internal("writing the seccomp filter", e))?,
            None => {
                let _ = std::fs::remove_file(&compiled);
            }
        }
        let _ = std::fs::remove_file(&paths.exit);
        let _ = std::fs::remove_file(&paths.health); // each run starts `starting`
        let (log_path, log) = super::logging::prepare(paths, rec)?;
        let monitor = MonitorConfig {
            id: rec.id.clone(),
            bundle: paths.bundle.clone(),
            rootfs: self
                .images
                .snapshots()
                .mounts(&rec.id, rec.chain_id.as_ref())
                .map_err(|e| Error::internal("rootfs mounts", e))?,
            log_path,
            log,
            exit_path: paths.exit.clone(),
            socket: self.socket(&rec.id),
            runtime,
            state_root: self
                .cfg
                .runtimes
                .state_root(&self.cfg.exec_root, &rec.spec.runtime),
            cgroup_path: run.cgroup_path.clone(),
            tty: rec.spec.stdio.tty,
            open_stdin: rec.spec.stdio.open_stdin,
            stdin_once: rec.spec.stdio.stdin_once,
            workdir: rec.spec.working_dir.clone(),
            health: None,
        };
        let monitor = MonitorConfig {
            health: super::health::probe(rec, paths, &monitor.runtime, &monitor.state_root),
            ..monitor
        };
        std::fs::write(
            &paths.monitor_config,
            serde_json::to_vec(&monitor).expect("config serializes"),
        )
        .map_err(|e| Error::internal("writing monitor config", e))?;
        Ok(monitor)
    }

    /// The runtime's spec of a start: its own /etc files and hostname, or those of the
    /// container whose namespace it shares; its links' variables under its own.
    fn run_spec(
        &self,
        rec: &Record,
        paths: &super::files::Paths,
        start: &Prepared,
        runtime: &berth_runtime::runtime::RuntimeConfig,
    ) -> Result<berth_runtime::RunSpec> {
        let layers = berth_core::rootfs::Layers::new(
            self.images
                .snapshots()
                .layers(Some(&rec.id), rec.chain_id.as_ref())
                .map_err(|e| Error::internal("reading image layers", e))?,
        );
        let volume = |name: &str| Ok(self.volumes.path(name));
        let etc = start
            .shared
            .as_ref()
            .map_or_else(|| paths.clone(), |o| self.paths(&o.id));
        let mut run = spec::run_spec(
            rec,
            &self.cfg.defaults,
            &layers,
            &etc,
            &self.cfg.init_binary,
            start.attached.network.clone(),
            &volume,
        )?;
        run.rootfs_propagation =
            super::propagation::root_propagation(&rec.spec, runtime)?.map(str::to_string);
        start.linked.add_env(&mut run.env);
        if let Some(o) = &start.shared {
            run.hostname = o.spec.hostname.clone();
            for e in run.env.iter_mut().filter(|e| e.starts_with("HOSTNAME=")) {
                *e = format!("HOSTNAME={}", o.spec.hostname);
            }
        }
        Ok(run)
    }

    /// The container's /etc/hosts, hostname and resolv.conf.
    fn write_etc(
        &self,
        rec: &Record,
        paths: &super::files::Paths,
        hostname: &str,
        start: &Prepared,
    ) -> Result<()> {
        paths
            .write_etc(&self.etc(rec, hostname, &start.attached, &start.linked))
            .map_err(|e| Error::internal("writing /etc files", e))
    }

    /// What `rec`'s /etc files are made of, with the network it has now.
    pub(super) fn etc<'a>(
        &self,
        rec: &'a Record,
        hostname: &'a str,
        a: &'a super::network::Attached,
        linked: &'a super::links::Linked,
    ) -> super::files::Etc<'a> {
        super::files::Etc {
            hostname,
            domainname: &rec.spec.domainname,
            host_network: rec.spec.network == super::NetworkMode::Host,
            addresses: &a.addresses,
            embedded_dns: a.embedded_dns,
            host_gateway: self.network.host_gateway().or(a.host_gateway),
            net: &rec.spec.net,
            links: &linked.hosts,
        }
    }

    /// Records a container the monitor reported running, and watches for its end.
    async fn started(
        self: &Arc<Self>,
        c: &Arc<Container>,
        handle: MonitorHandle,
        pid: i32,
        by_user: bool,
    ) -> Result<()> {
        let rec = c.record();
        if let (true, Some([h, w])) = (rec.spec.stdio.tty, rec.spec.console_size)
            && h > 0
        {
            let handle = handle.clone();
            let _ = tokio::task::spawn_blocking(move || handle.resize(h as u16, w as u16)).await;
        }
        let rec = self
            .save(c, |r| {
                r.state.status = Status::Running;
                r.state.pid = i64::from(pid);
                r.state.exit_code = 0;
                r.state.error.clear();
                r.state.oom_killed = false;
                r.state.started_at = berth_runtime::logfile::now();
                r.state.finished_at = ZERO_TIME.into();
                r.state.paused = false;
                // As dockerd: the daemon's default ulimits become the container's at start.
                if !self.cfg.defaults.ulimits.is_empty() {
                    let own = r.spec.limits.ulimits.as_deref();
                    r.spec.limits.ulimits = Some(self.cfg.defaults.ulimits(own));
                }
                if by_user {
                    r.state.restart_count = 0;
                    r.state.manually_stopped = false;
                }
            })
            .await?;
        self.volume_events(&rec, "mount");
        self.event("start", &rec, &[]);
        self.watch_exit(c.clone(), handle);
        self.watch_health(c);
        Ok(())
    }

    /// Waits (in a task) for the monitor's socket to close, then records the exit.
    fn watch_exit(self: &Arc<Self>, c: Arc<Container>, handle: MonitorHandle) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Ok(mut s) = tokio::net::UnixStream::connect(handle.socket()).await
                && s.write_all(b"wait\n").await.is_ok()
            {
                let mut buf = [0u8; 64];
                while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
            }
            this.on_exit(&c).await;
        });
    }

    /// Records the end of a run, then restarts the container, removes it (`--rm`) or leaves it.
    pub(super) async fn on_exit(self: &Arc<Self>, c: &Arc<Container>) {
        let (this, rec) = (self.clone(), c.record());
        let exit = crate::blocking::run("releasing a container's network and volumes", move || {
            this.network.detach(&rec.id);
            this.unmount_volumes(&rec);
            this.unmount_shm(&rec);
            Ok(this.last_exit(&rec))
        })
        .await;
        let Ok((code, oom, finished)) = exit else {
            return;
        };
        let rec = c.record();
        let ran = super::restart::ran(&rec.state.started_at, &finished);
        let (decision, keep) = {
            let mut m = c.restart.lock().expect("restart lock");
            let s = &rec.state;
            let d = m.decide(
                rec.spec.restart,
                code,
                ran,
                s.restart_count,
                s.manually_stopped,
            );
            (d, m.manual_restart)
        };
        let decision = if self.shutting_down() {
            super::restart::Decision::Stay
        } else {
            decision
        };
        let restart = matches!(decision, super::restart::Decision::Restart { .. });
        let rec = match self
            .save(c, |r| {
                r.state.status = if restart {
                    Status::Restarting
                } else {
                    Status::Exited
                };
                r.state.pid = 0;
                r.state.paused = false;
                r.state.exit_code = code;
                r.state.oom_killed = oom;
                r.state.finished_at = finished;
                r.state.restart_count += u32::from(restart);
            })
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(container.id = %c.id, error = %e, "recording exit");
                return;
            }
        };
        self.volume_events(&rec, "unmount");
        if oom {
            self.event("oom", &rec, &[]);
        }
        let attrs = [
            ("exitCode", code.to_string()),
            ("execDuration", ran.as_secs().to_string()),
        ];
        self.event("die", &rec, &attrs);
        if let super::restart::Decision::Restart { delay, generation } = decision {
            self.restart_after(c, delay, generation);
        } else if rec.spec.auto_remove
            && !keep
            && let Err(e) = self.remove(c, true, true).await
        {
            tracing::error!(container.id = %c.id, error = %e, "auto-removing");
        }
    }

    /// How the last run of `id` ended: exit code, OOM kill, end time. The monitor writes
    /// exit.json before closing its socket; a monitor that died without recording one
    /// (killed, or the host rebooted) leaves the exit unknown: 255, as Docker. Blocks.
    fn last_exit(&self, rec: &Record) -> (i64, bool, String) {
        let id = rec.id.as_str();
        let paths = self.paths(id);
        if let Some(e) = berth_runtime::handle::read_exit(&paths.exit) {
            return (i64::from(e.exit_code), e.oom_killed, e.finished_at);
        }
        let log = std::fs::read_to_string(&paths.monitor_log).unwrap_or_default();
        tracing::error!(container.id = %id, monitor.log = %log.trim(), "monitor ended without recording an exit");
        // Its runtime deletes the rest before the next start (see the monitor); what the
        // monitor mounted goes now.
        berth_runtime::cgroup::remove_empty(&rec.spec.cgroup.path(id));
        let _ = nix::mount::umount2(
            &paths.bundle.join("rootfs"),
            nix::mount::MntFlags::MNT_DETACH,
        );
        (255, false, berth_runtime::logfile::now())
    }

    /// Reconnects to the monitors of containers recorded as running (after a daemon restart);
    /// records the exits of those whose monitor is gone (killed, or the host rebooted); then
    /// starts the containers whose restart policy says so.
    pub fn restore(self: &Arc<Self>) {
        let mut lost = Vec::new();
        for c in self.list() {
            if c.status() == Status::Running {
                self.restore_volumes(&c.record());
                let handle = MonitorHandle::attach(&self.socket(&c.id));
                if handle.alive() {
                    tracing::info!(container.id = %c.id, "reattached to running container");
                    let (network, rec) = (self.network.clone(), c.record());
                    tokio::task::spawn_blocking(move || network.restore(&rec));
                    self.watch_exit(c.clone(), handle);
                    self.watch_health(&c);
                } else {
                    // Whether it starts again is decided below, as for the stopped ones.
                    c.restart.lock().expect("restart lock").cancel();
                    lost.push(c.clone());
                }
            }
            if c.record().build_step {
                // Its build died with the previous daemon; the exit is recorded as above.
                let this = self.clone();
                tokio::spawn(async move {
                    let _ = this.remove(&c, true, true).await;
                });
            }
        }
        let this = self.clone();
        tokio::spawn(async move {
            for c in &lost {
                this.on_exit(c).await;
                c.restart.lock().expect("restart lock").reset();
            }
            this.start_by_policy().await;
        });
    }

    /// A connection feeding the container's stdin, once it runs; `None` if its run ended first.
    pub async fn stdin(&self, c: &Arc<Container>) -> Option<tokio::net::UnixStream> {
        let mut rx = c.watch();
        let finished = c.record().state.finished_at;
        loop {
            let rec = c.record();
            if rec.state.status == Status::Running {
                break;
            }
            if rec.state.status != Status::Created && rec.state.finished_at != finished
                || rec.state.status == Status::Removing
            {
                return None;
            }
            rx.changed().await.ok()?;
        }
        let mut s = tokio::net::UnixStream::connect(self.socket(&c.id))
            .await
            .ok()?;
        s.write_all(b"stdin\n").await.ok()?;
        Some(s)
    }

    /// Sets the size of a running container's terminal.
    pub async fn resize(&self, c: &Arc<Container>, rows: u16, cols: u16) -> Result<()> {
        let handle = MonitorHandle::attach(&self.socket(&c.id));
        tokio::task::spawn_blocking(move || handle.resize(rows, cols))
            .await
            .map_err(|e| Error::internal("resize task", e))?
            .map_err(|e| Error::conflict(format!("cannot resize the terminal: {e}")))?;
        let attrs = [("height", rows.to_string()), ("width", cols.to_string())];
        self.event("resize", &c.record(), &attrs);
        Ok(())
    }

    /// Records that a client attached to the container (an `attach` event).
    pub fn attached(&self, c: &Container) {
        self.event("attach", &c.record(), &[]);
    }

    /// Sends a signal to a running container (the API says which container failed). SIGKILL
    /// or the container's stop signal also ends its restart policy until the next start; a
    /// container waiting to restart only gets that.
    pub async fn kill(self: &Arc<Self>, c: &Arc<Container>, signo: i32) -> Result<()> {
        let rec = c.record();
        if !rec.state.docker_running() {
            return Err(Error::conflict(format!(
                "Container {} is not running",
                rec.id
            )));
        }
        let final_signal = signo == libc::SIGKILL || self.stop_signal(&rec)? == signo;
        if rec.state.status == Status::Restarting {
            // A policy restart may be under way (it holds the lock): once it is done or
            // cancelled, signal whatever runs. No caller holds the lock here.
            let op = c.op.lock().await;
            self.stopped_by_user(c, final_signal).await?;
            if c.status() != Status::Running {
                return Ok(()); // no process to signal, and Docker logs no `kill` then
            }
            drop(op);
        } else {
            self.stopped_by_user(c, final_signal).await?;
        }
        self.signal(c, signo, final_signal).await
    }

    /// SIGKILL for an unhealthy container: not a user's stop, so its restart policy applies.
    pub(super) async fn kill_by_health(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        if c.status() != Status::Running {
            return Ok(());
        }
        self.signal(c, libc::SIGKILL, true).await
    }

    /// Sends `signo` to the running `c`; `thaw` lets it reach a paused one.
    async fn signal(self: &Arc<Self>, c: &Arc<Container>, signo: i32, thaw: bool) -> Result<()> {
        let rec = c.record();
        let handle = MonitorHandle::attach(&self.socket(&rec.id));
        tokio::task::spawn_blocking(move || handle.kill(signo))
            .await
            .map_err(|e| Error::internal("kill task", e))?
            .map_err(|e| Error::conflict(e.to_string()))?;
        if rec.state.paused && thaw {
            // The signal is delivered once the cgroup thaws.
            self.thaw(c).await?;
        }
        self.event("kill", &rec, &[("signal", signo.to_string())]);
        Ok(())
    }

    /// Stops a container: its stop signal, then SIGKILL after `timeout` seconds (negative: wait
    /// forever). Stopping a stopped container is `NotModified`.
    pub async fn stop(
        self: &Arc<Self>,
        c: &Arc<Container>,
        signal: Option<i32>,
        timeout: Option<i64>,
    ) -> Result<()> {
        let rec = c.record();
        if !rec.state.docker_running() {
            return Err(Error::new(
                ErrorKind::NotModified,
                "container already stopped",
            ));
        }
        let signo = match signal {
            Some(s) => s,
            None => self.stop_signal(&rec)?,
        };
        let timeout = timeout.or(rec.spec.stop_timeout).unwrap_or(10);
        // Out of DNS first: clients stop finding it while it finishes what it serves.
        let (this, id) = (self.clone(), rec.id.clone());
        let _ = crate::blocking::run("withdrawing a container's DNS names", move || {
            this.network.withdraw(&id);
            Ok(())
        })
        .await;
        self.end_run(c, signo, timeout, true).await;
        Ok(())
    }

    /// Sends `signo`, waits up to `timeout` seconds (negative: forever) for the run to end,
    /// then SIGKILL. A user's stop (`by_user`) ends the restart policy; the daemon's at its
    /// shutdown does not.
    pub(super) async fn end_run(
        self: &Arc<Self>,
        c: &Arc<Container>,
        signo: i32,
        timeout: i64,
        by_user: bool,
    ) {
        let send = |signo| async move {
            let _ = if by_user {
                self.kill(c, signo).await
            } else {
                self.signal(c, signo, true).await
            };
        };
        let mut rx = c.watch();
        send(signo).await;
        let stopped = async {
            while c.status() == Status::Running {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        };
        if timeout < 0 {
            stopped.await;
        } else if tokio::time::timeout(Duration::from_secs(timeout as u64), stopped)
            .await
            .is_err()
        {
            send(libc::SIGKILL).await;
            while c.status() == Status::Running {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        }
        self.event("stop", &c.record(), &[]);
    }

    /// The signal that stops `rec`: its own or SIGTERM.
    pub(super) fn stop_signal(&self, rec: &Record) -> Result<i32> {
        match &rec.spec.stop_signal {
            Some(s) => crate::signal::parse(s),
            None => Ok(libc::SIGTERM),
        }
    }

    /// Waits for `cond`; returns the exit code.
    pub async fn wait(&self, c: &Arc<Container>, cond: WaitCondition) -> Result<i64> {
        let mut rx = c.watch();
        let gone = |c: &Arc<Container>| {
            !self
                .all
                .lock()
                .expect("containers lock")
                .contains_key(&c.id)
        };
        let finished_at = c.record().state.finished_at;
        loop {
            let rec = c.record();
            let done = match cond {
                WaitCondition::NotRunning => rec.state.status != Status::Running,
                WaitCondition::NextExit => {
                    rec.state.status != Status::Running && rec.state.finished_at != finished_at
                }
                WaitCondition::Removed => gone(c),
            };
            if done {
                return Ok(rec.state.exit_code);
            }
            if rx.changed().await.is_err() {
                return Ok(c.record().state.exit_code);
            }
        }
    }

    /// Removes a container; a running one only with `force` (it is killed first); with
    /// `volumes`, its anonymous volumes too.
    pub async fn remove(
        self: &Arc<Self>,
        c: &Arc<Container>,
        force: bool,
        volumes: bool,
    ) -> Result<()> {
        let rec = c.record();
        if rec.state.docker_running() && !force {
            let procedure = if rec.state.paused {
                "Unpause and then stop the container before attempting removal or force remove"
            } else {
                "Stop the container before attempting removal or force remove"
            };
            return Err(Error::conflict(format!(
                "You cannot remove a {} container {}. {procedure}",
                rec.state.docker_status(),
                rec.id
            )));
        }
        c.restart.lock().expect("restart lock").removing = true;
        let removed = self.remove_marked(c, volumes).await;
        if removed.is_err() {
            c.restart.lock().expect("restart lock").removing = false;
        }
        removed
    }

    /// The removal of `c` once nothing may start it again: killed if it runs, then gone.
    async fn remove_marked(self: &Arc<Self>, c: &Arc<Container>, volumes: bool) -> Result<()> {
        let rec = c.record();
        if rec.state.docker_running() {
            let _ = self.kill(c, libc::SIGKILL).await;
            let _ = self.wait(c, WaitCondition::NotRunning).await;
        }
        // A start already past its check when the removal was marked (a restart in flight)
        // may finish first: kill again. No later start passes the mark, so this ends.
        let _op = loop {
            let op = c.op.lock().await;
            if !c.record().state.docker_running() {
                break op;
            }
            drop(op);
            let _ = self.kill(c, libc::SIGKILL).await;
            let _ = self.wait(c, WaitCondition::NotRunning).await;
        };
        if !self
            .all
            .lock()
            .expect("containers lock")
            .contains_key(&c.id)
        {
            return Ok(()); // removed meanwhile (auto-remove racing an explicit rm)
        }
        self.save(c, |r| r.state.status = Status::Removing).await?;
        let (this, id, dir) = (self.clone(), rec.id.clone(), self.paths(&rec.id).dir);
        let mounts = rec.spec.mounts.clone();
        crate::blocking::run("removing a container", move || {
            this.images
                .snapshots()
                .remove(&id)
                .map_err(|e| Error::internal("removing the container's filesystem", e))?;
            // A monitor killed mid-way leaves its rootfs mounted: never a mount under a removed
            // container (nothing else is mounted there by then).
            let _ =
                nix::mount::umount2(&dir.join("bundle/rootfs"), nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_dir_all(&dir);
            this.forget(&id)?;
            this.release_mounts(&id, &mounts, volumes);
            Ok(())
        })
        .await?;
        self.forget_execs(&rec.id);
        c.changed.send_modify(|n| *n += 1);
        self.event("destroy", &rec, &[]);
        Ok(())
    }
}
