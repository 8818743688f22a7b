//! Waiting for a sandboxed test process, with or without a time limit.
//!
//! # Why the harness enforces the timeout
//!
//! A test past its time may be stuck anywhere: in a blocking call, in a spin, with every thread
//! of the test process busy. So the limit is kept by the process that does not run the test:
//! the harness. When the time is up it sends `SIGKILL` to init, PID 1 of the test's PID
//! namespace (see `sys.rs`): the death of init makes the kernel kill every process the
//! test started, and nothing inside the sandbox can ignore or delay that. The keeper, waiting
//! for init, sees it die only once the kernel has killed and reaped all of them; so when the
//! harness has reaped the keeper and reports the timeout, nothing of the test is left.
//!
//! Killing the keeper instead would work too (its death kills init through
//! `PR_SET_PDEATHSIG`), but the harness would then see the keeper gone while the kernel is
//! still killing the namespace's processes. That is what happens when the harness itself is
//! killed, as cargo-nextest does past its `terminate-after`: there is no one left to wait, and
//! the namespace's processes are gone moments later. The keeper is killed only when init cannot
//! be found (a kernel without `/proc/PID/task/TID/children`).
//!
//! # The test's own report first
//!
//! A test that hangs is one whose network state the user most wants to see. So the test process
//! keeps the same limit itself (the harness gives it in [`LIMIT_ENV`](crate::config::LIMIT_ENV)): when its time is up, a
//! thread of the test process stops the packet capture, prints the network as the kernel sees
//! it, saves the artifacts and ends the process with [`TIMED_OUT`] (see the harness's `child.rs`). The
//! harness waits [`REPORT_GRACE`] longer before it kills: that report is a courtesy, the kill
//! is the guarantee. With `NETNS_TEST_KEEP` the report keeps the network up for the user to
//! enter, and the harness does not kill it (see the failure component's `keep.rs`).
//!
//! # Why two helper threads
//!
//! While the harness waits for the clock, the test's output must still be read, or a test that
//! prints more than a pipe holds would block on its next write and look hung; and the output
//! read so far is wanted in the report of a test that timed out. So one thread reads the pipe,
//! and another waits for the keeper to exit with `waitid(WNOWAIT)`, which leaves it unreaped:
//! its pid cannot be taken by another process before the harness decides whether to kill it, so
//! the kill can never hit a stranger. Without a time limit neither thread is needed.

use std::io::{self, PipeReader, Read};
use std::process::ExitStatus;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use super::served::Served;

/// The exit code of a test process that ran out of time and ended itself after its report.
pub(crate) const TIMED_OUT: u8 = 103;

/// How long past the time limit the harness leaves the test process to report and end itself,
/// before it kills the sandbox.
const REPORT_GRACE: Duration = Duration::from_secs(5);

/// How long the output of a killed test may take to reach its end. It ends as soon as the
/// kernel has killed the sandbox's processes; this only guards against the unforeseen.
const OUTPUT_GRACE: Duration = Duration::from_secs(5);

/// How a watched test process ended.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    /// What it printed (empty when the output was not captured).
    pub output: Vec<u8>,
    /// The process was killed because it ran past its time limit.
    pub timed_out: bool,
}

/// Waits for the keeper `pid` (a child of this process) to end, reading `output` meanwhile;
/// after `timeout`, kills it (and so its whole sandbox), unless `keep` (keep-on-failure) lets
/// the user hold it. Reaps the keeper.
pub(crate) fn finish(
    pid: Pid,
    output: Option<PipeReader>,
    timeout: Option<Duration>,
    keep: bool,
) -> io::Result<Finished> {
    watch(Keeper::Child(pid), output, timeout, keep)
}

/// The keeper of a sandbox being watched: a child of this process, or one the fork server made
/// (`served.rs`), which waits, kills and reaps it when asked.
#[derive(Clone, Debug)]
pub(crate) enum Keeper {
    /// The keeper is a child of this process.
    Child(Pid),
    /// The fork server's keeper, reached over its channel.
    Served(Arc<Served>),
}

impl Keeper {
    /// Blocks until the keeper has ended, leaving it unreaped.
    fn wait_ended(&self) {
        match self {
            Keeper::Child(pid) => {
                let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
                while let Err(nix::errno::Errno::EINTR) = waitid(Id::Pid(*pid), flags) {}
            }
            Keeper::Served(served) => served.wait_ended(),
        }
    }

    /// Kills the sandbox (see [`kill_sandbox`]).
    fn kill(&self) {
        match self {
            Keeper::Child(pid) => kill_sandbox(*pid),
            Keeper::Served(served) => served.kill(),
        }
    }

    /// Waits for the keeper's end and reaps it.
    fn reap(&self) -> io::Result<ExitStatus> {
        match self {
            Keeper::Child(pid) => super::sys::reap(pid.as_raw()),
            Keeper::Served(served) => served.reap(),
        }
    }
}

/// [`finish`] for any [`Keeper`].
pub(crate) fn watch(
    keeper: Keeper,
    output: Option<PipeReader>,
    timeout: Option<Duration>,
    keep: bool,
) -> io::Result<Finished> {
    let Some(timeout) = timeout else {
        let mut bytes = Vec::new();
        if let Some(mut reader) = output {
            // The pipe closes when the test's last process is gone: the whole PID namespace.
            let _ = reader.read_to_end(&mut bytes);
        }
        let status = keeper.reap()?;
        return Ok(Finished {
            status,
            output: bytes,
            timed_out: false,
        });
    };

    let read = output.map(read_in_background);
    let (exited, exit) = mpsc::channel();
    let waited = keeper.clone();
    thread::Builder::new()
        .name("netns-test-wait".into())
        .spawn(move || {
            waited.wait_ended();
            let _ = exited.send(());
        })?;
    // A network kept for the user (`NETNS_TEST_KEEP`) stays up until they say so, timed out or
    // not: the test process ends itself once they have.
    let ended = if keep {
        exit.recv()
            .map_err(|mpsc::RecvError| mpsc::RecvTimeoutError::Disconnected)
    } else {
        exit.recv_timeout(timeout + REPORT_GRACE)
    };
    let killed = match ended {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => false,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            keeper.kill();
            true
        }
    };
    let status = keeper.reap()?;
    let timed_out = killed || status.code() == Some(i32::from(TIMED_OUT));
    let bytes = match read {
        Some((buffer, done)) => {
            let _ = done.recv_timeout(OUTPUT_GRACE);
            std::mem::take(&mut *buffer.lock().unwrap_or_else(|e| e.into_inner()))
        }
        None => Vec::new(),
    };
    Ok(Finished {
        status,
        output: bytes,
        timed_out,
    })
}

/// Kills the sandbox whose keeper is `keeper`: its init if it can be found, else the keeper.
pub(super) fn kill_sandbox(keeper: Pid) {
    // The keeper is not reaped yet (WNOWAIT, and only `reap` reaps it), so `keeper` is
    // still ours even if it has just exited; and init, its only child, can only be reaped by it.
    let children = std::fs::read_to_string(format!("/proc/{keeper}/task/{keeper}/children"));
    let init = children
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .map(Pid::from_raw);
    match init {
        Some(init) if kill(init, Signal::SIGKILL).is_ok() => {}
        _ => {
            let _ = kill(keeper, Signal::SIGKILL);
        }
    }
}

/// Reads `reader` to its end on a thread; the bytes so far are in the buffer, and the channel
/// says when the end came.
fn read_in_background(mut reader: PipeReader) -> (Arc<Mutex<Vec<u8>>>, mpsc::Receiver<()>) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let (done, ended) = mpsc::channel();
    let shared = Arc::clone(&buffer);
    thread::Builder::new()
        .name("netns-test-output".into())
        .spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => shared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = done.send(());
        })
        .expect("cannot start a thread to read the test's output");
    (buffer, ended)
}
