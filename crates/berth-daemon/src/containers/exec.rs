//! Exec instances: processes started in a running container, kept in memory (as Docker does)
//! until their container is removed.

use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use berth_runtime::StartError;
use tokio::net::unix::pipe;
use tokio::sync::watch;

use super::{Container, Containers, ExecSpec, spec};
use crate::error::{Error, Result};

/// One exec instance.
pub struct Exec {
    /// The exec's ID.
    pub id: String,
    /// The container it runs in.
    pub container: Arc<Container>,
    /// What was asked for.
    pub spec: ExecSpec,
    state: Mutex<ExecState>,
    /// Becomes true once the process ended (or failed to start).
    done: watch::Sender<bool>,
}

#[derive(Default)]
struct ExecState {
    started: bool,
    running: bool,
    pid: i64,
    exit_code: Option<i64>,
    pty: Option<Arc<OwnedFd>>,
}

/// The client's ends of a started exec's stdio.
pub struct ExecIo {
    /// The process's stdin (absent unless attached).
    pub stdin: Option<pipe::Sender>,
    /// Its stdout, or the terminal's output for a tty exec.
    pub stdout: Option<pipe::Receiver>,
    /// Its stderr (never for a tty exec).
    pub stderr: Option<pipe::Receiver>,
}

impl Exec {
    /// Whether it runs, its host pid (0 before it started) and its exit code once it ended.
    pub fn status(&self) -> (bool, i64, Option<i64>) {
        let s = self.state.lock().expect("exec lock");
        (s.running, s.pid, s.exit_code)
    }

    /// Waits until the process ended; returns its exit code.
    pub async fn wait(&self) -> i64 {
        let mut rx = self.done.subscribe();
        let _ = rx.wait_for(|d| *d).await;
        self.state
            .lock()
            .expect("exec lock")
            .exit_code
            .unwrap_or(137)
    }

    fn finish(&self, code: i64) {
        let mut s = self.state.lock().expect("exec lock");
        s.running = false;
        s.exit_code = Some(code);
        s.pty = None;
        drop(s);
        self.done.send_replace(true);
    }
}

impl Containers {
    /// Creates an exec instance in a running container.
    pub fn create_exec(&self, c: &Arc<Container>, spec: ExecSpec) -> Result<String> {
        if spec.cmd.is_empty() {
            return Err(Error::invalid("No exec command specified"));
        }
        not_paused(&c.record())?;
        crate::userns::check_exec(&c.record().spec, &self.cfg)?;
        let id = berth_core::id::generate();
        let exec = Arc::new(Exec {
            id: id.clone(),
            container: c.clone(),
            spec,
            state: Mutex::default(),
            done: watch::channel(false).0,
        });
        self.execs
            .lock()
            .expect("execs lock")
            .insert(id.clone(), exec.clone());
        self.exec_event(&exec, "exec_create", &[]);
        Ok(id)
    }

    /// Finds an exec instance by ID.
    pub fn get_exec(&self, id: &str) -> Result<Arc<Exec>> {
        self.execs
            .lock()
            .expect("execs lock")
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("No such exec instance: {id}")))
    }

    /// The exec IDs of a container.
    pub fn exec_ids(&self, container: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .execs
            .lock()
            .expect("execs lock")
            .values()
            .filter(|e| e.container.id == container)
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        ids
    }

    pub(super) fn forget_execs(&self, container: &str) {
        self.execs
            .lock()
            .expect("execs lock")
            .retain(|_, e| e.container.id != container);
    }

    fn exec_event(&self, e: &Exec, action: &str, extra: &[(&str, String)]) {
        let rec = e.container.record();
        let action = match action {
            "exec_die" => action.to_string(),
            _ => format!("{action}: {}", e.spec.cmd.join(" ")),
        };
        let mut attrs = vec![("execID", e.id.clone())];
        attrs.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        self.event(&action, &rec, &attrs);
    }

    /// Starts an exec; with `attach`, returns the stdio it was asked to attach, else its output
    /// is discarded. A process that fails to start is recorded with Docker's exit code (126/127)
    /// and the error returned.
    /// `console` is the terminal's initial `[height, width]`.
    pub async fn start_exec(
        self: &Arc<Self>,
        e: &Arc<Exec>,
        attach: bool,
        console: Option<&[u16]>,
    ) -> Result<ExecIo> {
        self.claim_exec(e)?;
        self.run_exec(e, attach, console).await
    }

    /// Marks the exec started, refusing one that ran or whose container stopped: what must be
    /// said as a plain error before a client's connection is taken over.
    pub fn claim_exec(&self, e: &Exec) -> Result<()> {
        let c = &e.container;
        {
            let mut s = e.state.lock().expect("exec lock");
            if s.running {
                return Err(Error::conflict(format!(
                    "Error: Exec command {} is already running",
                    e.id
                )));
            }
            if s.started {
                return Err(Error::conflict(format!(
                    "Error: Exec command {} has already run",
                    e.id
                )));
            }
            not_paused(&c.record())?;
            s.started = true;
            s.running = true;
        }
        Ok(())
    }

    /// Runs a claimed exec's process.
    pub async fn run_exec(
        self: &Arc<Self>,
        e: &Arc<Exec>,
        attach: bool,
        console: Option<&[u16]>,
    ) -> Result<ExecIo> {
        let size = match console {
            Some(&[h, w]) => Some((h, w)),
            _ => e.spec.console_size,
        }
        .filter(|(h, w)| *h > 0 && *w > 0);
        let result = self.spawn_exec(e, attach, size).await;
        match result {
            Ok((io, process)) => {
                {
                    let mut s = e.state.lock().expect("exec lock");
                    s.pid = i64::from(process.pid);
                    s.pty = process.pty.map(Arc::new);
                }
                self.exec_event(e, "exec_start", &[]);
                let (this, e2) = (self.clone(), e.clone());
                let (status, mut helper) = (process.status, process.helper);
                tokio::spawn(async move {
                    let code = tokio::task::spawn_blocking(move || {
                        let code = berth_runtime::exec::wait(status);
                        let _ = helper.wait();
                        code
                    })
                    .await
                    .unwrap_or(137);
                    e2.finish(i64::from(code));
                    this.exec_event(&e2, "exec_die", &[("exitCode", code.to_string())]);
                });
                Ok(io)
            }
            Err((err, code)) => {
                e.finish(code);
                Err(err)
            }
        }
    }

    async fn spawn_exec(
        &self,
        e: &Exec,
        attach: bool,
        console_size: Option<(u16, u16)>,
    ) -> std::result::Result<(ExecIo, berth_runtime::exec::ExecProcess), (Error, i64)> {
        fn internal<E: std::error::Error + Send + Sync + 'static>(
            what: &str,
            e: E,
        ) -> (Error, i64) {
            (Error::internal(what, e), 126)
        }
        let rec = e.container.record();
        let paths = self.paths(&rec.id);
        let cfg = &e.spec;
        let rootfs = paths.bundle.join("rootfs");
        let user = if cfg.user.is_empty() {
            &rec.spec.user
        } else {
            &cfg.user
        };
        let root = berth_core::rootfs::RootDir::open(&rootfs)
            .map_err(|err| (Error::from_kinded(err), 126))?;
        let group_add = rec.spec.group_add.as_deref().unwrap_or_default();
        let (uid, gid, groups) =
            spec::resolve_user_groups(user, group_add, &root).map_err(|err| (err, 126))?;
        let container_process = berth_runtime::exec::container_process(&paths.bundle)
            .map_err(|err| internal("reading the container's spec", err))?;
        // The runtime (and its state) the container was started with.
        let monitor: berth_runtime::MonitorConfig = std::fs::read(&paths.monitor_config)
            .map_err(|err| internal("reading the container's monitor config", err))
            .and_then(|b| {
                serde_json::from_slice(&b)
                    .map_err(|err| internal("parsing the container's monitor config", err))
            })?;
        let mut env = super::spec::process_env(&rec.spec, cfg.stdio.tty, &cfg.env);
        // An exec gets the legacy links' variables too, resolved now as Docker's exec start
        // resolves them (a linked container that stopped since fails it).
        let linked = self.resolve_links(&rec).map_err(|err| (err, 126))?;
        linked.add_env(&mut env);
        let cwd = [&cfg.working_dir, &rec.spec.working_dir]
            .into_iter()
            .find(|d| !d.is_empty())
            .map_or("/", |d| d.as_str());
        let mut process = berth_runtime::exec::process(
            &container_process,
            &cfg.cmd,
            &env,
            cwd,
            (uid, gid, &groups),
            cfg.stdio.tty,
            console_size,
        );
        if cfg.privileged {
            berth_runtime::exec::set_capabilities(
                &mut process,
                berth_runtime::capabilities::Available::host().all(),
            );
        }
        let dir = self.cfg.exec_root.join("execs");
        std::fs::create_dir_all(&dir).map_err(|err| internal("creating exec dir", err))?;
        let process_path = dir.join(format!("{}.json", &e.id[..16]));
        std::fs::write(
            &process_path,
            serde_json::to_vec(&process).expect("process serializes"),
        )
        .map_err(|err| internal("writing exec process", err))?;
        let config = berth_runtime::exec::ExecConfig {
            container: rec.id.clone(),
            runtime: monitor.runtime,
            state_root: monitor.state_root,
            process: process_path.clone(),
            console_socket: cfg
                .stdio
                .tty
                .then(|| dir.join(format!("{}.console", &e.id[..16]))),
            console_size,
        };
        let mut io = ExecIo {
            stdin: None,
            stdout: None,
            stderr: None,
        };
        // Unattached streams go to /dev/null, as Docker discards them; a tty exec's single
        // stream is its terminal.
        let mut pipe_for = |wanted: bool, fd: usize| -> std::io::Result<Stdio> {
            if !wanted || cfg.stdio.tty {
                return Ok(Stdio::null());
            }
            let (tx, rx) = pipe::pipe()?;
            Ok(match fd {
                0 => {
                    io.stdin = Some(tx);
                    Stdio::from(rx.into_blocking_fd()?)
                }
                1 => {
                    io.stdout = Some(rx);
                    Stdio::from(tx.into_blocking_fd()?)
                }
                _ => {
                    io.stderr = Some(rx);
                    Stdio::from(tx.into_blocking_fd()?)
                }
            })
        };
        let stdio = (|| {
            Ok::<_, std::io::Error>([
                pipe_for(attach && cfg.stdio.attach_stdin, 0)?,
                pipe_for(attach && cfg.stdio.attach_stdout, 1)?,
                pipe_for(attach && cfg.stdio.attach_stderr, 2)?,
            ])
        })()
        .map_err(|err| internal("creating exec pipes", err))?;
        let exe = self.cfg.exe.clone();
        let spawned =
            tokio::task::spawn_blocking(move || berth_runtime::exec::spawn(&exe, &config, stdio))
                .await;
        let _ = std::fs::remove_file(&process_path);
        let process = match spawned {
            Ok(Ok(p)) => p,
            Ok(Err(err @ StartError::Exec(_))) => {
                return Err((Error::invalid(err.to_string()), i64::from(err.exit_code())));
            }
            Ok(Err(err)) => return Err(internal("starting exec", err)),
            Err(err) => return Err(internal("exec task", err)),
        };
        if let Some(pty) = &process.pty {
            let dup = |fd: &OwnedFd| fd.try_clone().map_err(|err| internal("dup pty", err));
            if attach && (cfg.stdio.attach_stdout || cfg.stdio.attach_stderr) {
                io.stdout = Some(
                    pipe::Receiver::from_owned_fd_unchecked(dup(pty)?)
                        .map_err(|err| internal("pty reader", err))?,
                );
            }
            if attach && cfg.stdio.attach_stdin {
                io.stdin = Some(
                    pipe::Sender::from_owned_fd_unchecked(dup(pty)?)
                        .map_err(|err| internal("pty writer", err))?,
                );
            }
        }
        Ok((io, process))
    }

    /// Sets the size of a tty exec's terminal.
    pub fn resize_exec(&self, e: &Exec, rows: u16, cols: u16) -> Result<()> {
        let s = e.state.lock().expect("exec lock");
        let Some(pty) = &s.pty else {
            return Err(Error::conflict(format!(
                "Exec {} is not running or has no terminal",
                e.id
            )));
        };
        berth_runtime::exec::resize(pty.as_ref(), rows, cols)
            .map_err(|err| Error::internal("resizing exec terminal", err))
    }
}

/// Docker's refusals of an exec: the container must run and not be paused.
fn not_paused(rec: &super::Record) -> Result<()> {
    super::pause::running(rec)?;
    if rec.state.paused {
        return Err(Error::conflict(format!(
            "Container {} is paused, unpause the container before exec",
            rec.id
        )));
    }
    Ok(())
}
