//! `berth`: the CLI (Docker's command syntax, talking to the daemon over the Engine API), the
//! daemon (`berth daemon`), the hidden per-container monitor (`berth monitor`) and exec helper (`berth exec-helper`), and the init
//! of `--init` containers (this binary run as `docker-init`).

mod cli;
mod daemon;
mod hosts;
mod init;
mod tls_flags;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let argv0 = args.first().map(|a| a.rsplit('/').next().unwrap_or(a));
    if argv0 == Some("docker-init") {
        return init::run(&args[1..]);
    }
    // The monitor must stay single-threaded until it has forked the container: dispatch before
    // anything starts threads.
    if args.get(1).map(String::as_str) == Some("monitor") {
        let Some(config) = args.get(2) else {
            eprintln!("usage: berth monitor CONFIG");
            return ExitCode::from(2);
        };
        let config = std::path::Path::new(config);
        let code = match args.get(3).map(String::as_str) {
            Some("--resume") => berth_runtime::monitor::resume(config, &args[4..]),
            _ => berth_runtime::monitor::run(config),
        };
        return ExitCode::from(code as u8);
    }
    if args.get(1).map(String::as_str) == Some("exec-helper") {
        let Some(config) = args.get(2) else {
            eprintln!("usage: berth exec-helper CONFIG_JSON");
            return ExitCode::from(2);
        };
        return ExitCode::from(berth_runtime::exec::run_helper(config) as u8);
    }
    // Single-threaded too: it forks the child that makes a container's namespaces.
    if args.get(1).map(String::as_str) == Some("userns-netns") {
        return ExitCode::from(berth_runtime::userns_netns::run_helper(&args[2..]) as u8);
    }
    let cli = cli::Cli::parse();
    cli::run(cli)
}
