//! `docker-init`: the tiny init berth bind-mounts at `/sbin/docker-init` in `--init` containers.
//!
//! It runs the command as its child, forwards every signal it receives to it, reaps every zombie
//! (orphans are reparented to PID 1), and exits with the child's status (128 + signal when the
//! child was killed) once the child is gone.

use std::ffi::CString;
use std::process::ExitCode;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, execvp, fork, getpgrp, setpgid, tcsetpgrp};

/// Signals that are about the init itself, not requests to forward.
const NOT_FORWARDED: &[Signal] = &[
    Signal::SIGFPE,
    Signal::SIGILL,
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGABRT,
    Signal::SIGTRAP,
    Signal::SIGSYS,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
];

/// Runs `args` (after an optional leading `--`) under the init; returns its exit status.
pub fn run(args: &[String]) -> ExitCode {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    if args.is_empty() {
        eprintln!("docker-init (berth): no command given");
        return ExitCode::from(1);
    }
    let Ok(argv) = args
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
    else {
        eprintln!("docker-init (berth): argument contains a NUL byte");
        return ExitCode::from(1);
    };
    let mut forwarded = SigSet::all();
    for s in NOT_FORWARDED {
        forwarded.remove(*s);
    }
    let mut old = SigSet::empty();
    if let Err(e) = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&forwarded), Some(&mut old)) {
        eprintln!("docker-init (berth): blocking signals: {e}");
        return ExitCode::from(1);
    }
    // SAFETY: the init is single-threaded, so the child may run arbitrary code after fork.
    let child = match unsafe { fork() } {
        Ok(ForkResult::Parent { child }) => child,
        Ok(ForkResult::Child) => {
            let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
            // Its own process group, in the terminal's foreground: ^C reaches the command.
            let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
            // SAFETY: ignoring SIGTTOU around tcsetpgrp so a background group may take the tty.
            unsafe { libc::signal(libc::SIGTTOU, libc::SIG_IGN) };
            let _ = tcsetpgrp(std::io::stdin(), getpgrp());
            // SAFETY: restoring the default disposition is always sound.
            unsafe { libc::signal(libc::SIGTTOU, libc::SIG_DFL) };
            let e = execvp(&argv[0], &argv).unwrap_err();
            eprintln!("docker-init (berth): exec {} failed: {e}", args[0]);
            std::process::exit(if e == nix::errno::Errno::ENOENT {
                127
            } else {
                126
            });
        }
        Err(e) => {
            eprintln!("docker-init (berth): fork: {e}");
            return ExitCode::from(1);
        }
    };
    loop {
        let Ok(sig) = forwarded.wait() else { continue };
        if sig != Signal::SIGCHLD {
            let _ = kill(child, sig);
            continue;
        }
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => {
                    return ExitCode::from(code as u8);
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                    return ExitCode::from(128 + sig as u8);
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}
