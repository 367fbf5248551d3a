//! An attached `up`: the services' output with prefixes until their containers exit, then
//! `--abort-on-container-exit`, `--exit-code-from`, and Ctrl-C stopping the project gracefully.

use anyhow::{Result, bail};
use berth_compose::model::Project;
use berth_compose::ops::api::Api;
use berth_compose::ops::lifecycle::{self, Action};
use berth_compose::ops::logs::{self, Line, LogOptions};
use berth_compose::ops::observed::{self, OneOff};
use tokio::sync::mpsc;

use super::Ctx;
use super::printer::Printer;

#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// Stops all containers if any container was stopped. Incompatible with -d.
    #[arg(long)]
    abort_on_container_exit: bool,
    /// Return the exit code of the selected service container. Implies --abort-on-container-exit.
    #[arg(long, value_name = "SERVICE")]
    exit_code_from: Option<String>,
    /// Restrict attaching to the specified services.
    #[arg(long = "attach", value_name = "SERVICE")]
    attach: Vec<String>,
    /// Do not attach (stream logs) to the specified services.
    #[arg(long = "no-attach", value_name = "SERVICE")]
    no_attach: Vec<String>,
    /// Automatically attach to log output of dependent services.
    #[arg(long)]
    attach_dependencies: bool,
    /// Produce monochrome output.
    #[arg(long)]
    no_color: bool,
    /// Don't print prefix in logs.
    #[arg(long)]
    no_log_prefix: bool,
    /// Show timestamps.
    #[arg(long)]
    timestamps: bool,
}

impl AttachArgs {
    /// Whether an attach-only flag was given.
    pub fn wants_attach(&self) -> bool {
        self.abort_on_container_exit || self.exit_code_from.is_some() || !self.attach.is_empty()
    }
}

enum Event {
    Line(Line),
    Exited {
        source: String,
        service: String,
        code: i64,
    },
}

/// The services whose output is shown.
fn attached(p: &Project, order: &[String], named: &[String], a: &AttachArgs) -> Vec<String> {
    let base: Vec<String> = if !a.attach.is_empty() {
        a.attach.clone()
    } else if !named.is_empty() && !a.attach_dependencies {
        named.to_vec()
    } else {
        order.to_vec()
    };
    base.into_iter()
        .filter(|s| !a.no_attach.contains(s))
        .filter(|s| {
            p.services
                .get(s)
                .is_none_or(|svc| svc.attach != Some(false))
        })
        .collect()
}

/// Follows one container until it exits for good (a restart is followed on).
async fn watch(
    api: Api,
    project: String,
    c: berth_api::container::Summary,
    mut since: i64,
    ts: bool,
    tx: mpsc::Sender<Event>,
) {
    let source = logs::short_name(&project, &c);
    loop {
        let opts = LogOptions {
            follow: true,
            tail: "all".into(),
            since: since.to_string(),
            until: String::new(),
            timestamps: ts,
        };
        let (ltx, mut lrx) = mpsc::channel(64);
        let (a2, id, src) = (api.clone(), c.id.clone(), source.clone());
        let reader = tokio::spawn(async move { logs::one(&a2, &id, &src, &opts, &ltx).await });
        while let Some(l) = lrx.recv().await {
            if tx.send(Event::Line(l)).await.is_err() {
                return;
            }
        }
        let _ = reader.await;
        since = chrono::Utc::now().timestamp();
        match api.inspect(&c.id).await {
            Ok(i) if i.state.running || i.state.restarting => continue,
            Ok(i) => {
                let service = observed::service(&c).to_string();
                let _ = tx
                    .send(Event::Exited {
                        source,
                        service,
                        code: i.state.exit_code,
                    })
                    .await;
                return;
            }
            Err(_) => {
                let _ = tx
                    .send(Event::Exited {
                        source,
                        service: observed::service(&c).into(),
                        code: -1,
                    })
                    .await;
                return;
            }
        }
    }
}

/// Shows the output of the attached services until they exit; the command's exit code.
pub async fn follow(
    ctx: &Ctx,
    p: &Project,
    order: &[String],
    named: &[String],
    a: &AttachArgs,
    since: i64,
) -> Result<u8> {
    if let Some(s) = &a.exit_code_from
        && !p.services.contains_key(s)
    {
        bail!("no such service: {s}");
    }
    let abort = a.abort_on_container_exit || a.exit_code_from.is_some();
    let services = attached(p, order, named, a);
    let containers = observed::containers(&ctx.api, &p.name, &services, OneOff::Exclude).await?;
    let sources: Vec<String> = containers
        .iter()
        .map(|c| logs::short_name(&p.name, c))
        .collect();
    println!("Attaching to {}", sources.join(", "));
    let printer = Printer::new(sources, a.no_color, a.no_log_prefix);
    let (tx, mut rx) = mpsc::channel(256);
    for c in containers.iter().cloned() {
        tokio::spawn(watch(
            ctx.api.clone(),
            p.name.clone(),
            c,
            since,
            a.timestamps,
            tx.clone(),
        ));
    }
    drop(tx);
    let mut running = containers.len();
    let mut code: u8 = 0;
    let show = |l: &Line| {
        let _ = printer.line(l);
    };
    let stop = loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                None => break false,
                Some(Event::Line(l)) => show(&l),
                Some(Event::Exited { source, service, code: c }) => {
                    println!("{source} exited with code {c}");
                    running -= 1;
                    let from = a.exit_code_from.as_deref();
                    if from == Some(service.as_str()) || (from.is_none() && abort && code == 0) {
                        code = u8::try_from(c).unwrap_or(1);
                    }
                    if abort {
                        println!("Aborting on container exit...");
                        break true;
                    }
                    if running == 0 {
                        break false;
                    }
                }
            },
            _ = tokio::signal::ctrl_c() => {
                println!("Gracefully stopping... (press Ctrl+C again to force)");
                code = 130;
                break true;
            }
        }
    };
    if stop {
        // The services' last words (and exits) are shown while they stop, as Compose does.
        let action = Action::Stop(None);
        let stopping = lifecycle::apply(
            &ctx.api,
            &p.name,
            order,
            OneOff::Exclude,
            &action,
            ctx.progress,
        );
        tokio::pin!(stopping);
        let mut open = true;
        loop {
            tokio::select! {
                r = &mut stopping => { r?; break; }
                ev = rx.recv(), if open => match ev {
                    Some(Event::Line(l)) => show(&l),
                    Some(Event::Exited { source, code: c, .. }) => println!("{source} exited with code {c}"),
                    None => open = false,
                },
                _ = tokio::signal::ctrl_c() => bail!("canceled: containers were not stopped gracefully"),
            }
        }
        while let Ok(Some(ev)) =
            tokio::time::timeout(std::time::Duration::from_secs(2), rx.recv()).await
        {
            match ev {
                Event::Line(l) => show(&l),
                Event::Exited {
                    source, code: c, ..
                } => println!("{source} exited with code {c}"),
            }
        }
    }
    Ok(code)
}
