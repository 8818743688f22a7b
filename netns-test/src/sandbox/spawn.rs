//! Starting a test process in a fresh sandbox and waiting for it.
//!
//! The harness knows nothing of networks: it asks this module to run "test X" in a new process
//! whose user, network, mount and PID namespaces are its own (see `sys.rs` for how and why),
//! and gets back how that process ended and what it printed.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::unistd::Pid;

use super::refusal::{HostFacts, diagnose};
use super::sys::{self, Sandbox};
use super::{fallback, watch};
use crate::config::{CHILD_ENV, LIMIT_ENV};

/// How a sandboxed test process ended.
#[derive(Debug)]
pub(crate) struct Ended {
    pub status: ExitStatus,
    /// Everything it and its programs wrote to stdout and stderr, interleaved as written.
    /// Empty when the output was not captured.
    pub output: String,
    /// It ran past its time limit and was killed, with every process it started.
    pub timed_out: bool,
}

/// Runs test `name` of the current binary in a fresh sandbox, giving the binary `args`, and
/// waits for it, at most `timeout` (see `watch.rs`); with `keep`, a test kept on failure is
/// waited for however long the user keeps it.
pub(crate) fn run_test(
    name: &str,
    args: &[&str],
    capture: bool,
    timeout: Option<Duration>,
    keep: bool,
) -> Result<Ended, crate::Error> {
    let (child, reader) =
        fallback::start_sandboxed(|sandbox| start(name, args, capture, timeout, sandbox))
            .map_err(spawn_error)?;
    let finished = watch::finish(Pid::from_raw(child.id() as i32), reader, timeout, keep).map_err(
        |source| crate::Error::Io {
            what: "cannot wait for the test process".into(),
            source,
        },
    )?;
    Ok(ended(finished))
}

pub(super) fn ended(finished: watch::Finished) -> Ended {
    Ended {
        status: finished.status,
        output: String::from_utf8_lossy(&finished.output).into_owned(),
        timed_out: finished.timed_out,
    }
}

/// Starts the test process in `sandbox`, with the read end of its output pipe when capturing.
fn start(
    name: &str,
    args: &[&str],
    capture: bool,
    timeout: Option<Duration>,
    sandbox: Sandbox,
) -> io::Result<(Child, Option<io::PipeReader>)> {
    let mut command = Command::new("/proc/self/exe");
    if let Some(arg0) = std::env::args_os().next() {
        command.arg0(arg0);
    }
    command.args(args).env(CHILD_ENV, name).stdin(Stdio::null());
    if let Some(timeout) = timeout {
        command.env(LIMIT_ENV, timeout.as_micros().to_string());
    }
    let reader = if capture {
        let (reader, writer) = io::pipe()?;
        let writer2 = writer.try_clone()?;
        command.stdout(writer).stderr(writer2);
        Some(reader)
    } else {
        None
    };
    // SAFETY: `Sandbox::enter` and `close_others_on_exec` only make async-signal-safe system
    // calls, as `pre_exec` requires.
    unsafe {
        command.pre_exec(move || {
            sandbox.enter()?;
            sys::close_others_on_exec()
        });
    }
    let child = command.spawn()?;
    // `command` goes here, and with it our copies of the pipe's write end: otherwise the
    // reader would never see the end of the pipe.
    Ok((child, reader))
}

pub(super) fn spawn_error(error: io::Error) -> crate::Error {
    match sys::decode_failure(&error) {
        Some((step, errno)) => {
            crate::Error::Refused(diagnose(step, Errno::from_raw(errno), &HostFacts::read()))
        }
        None => crate::Error::Io {
            what: "cannot start the test process".into(),
            source: error,
        },
    }
}

/// Describes how a process ended, as a person would say it.
pub(crate) fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("the test process exited with code {code}"),
        (None, Some(signal)) => {
            let name = nix::sys::signal::Signal::try_from(signal)
                .map(|s| s.as_str())
                .unwrap_or("an unknown signal");
            format!("the test process was killed by signal {signal} ({name})")
        }
        (None, None) => format!("the test process ended: {status}"),
    }
}
