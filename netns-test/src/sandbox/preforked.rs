//! A test run alone, in a process forked without `exec` from the top of `main`.
//!
//! # Why
//!
//! cargo-nextest runs each test in a process of its own (`<bin> --exact NAME`). Re-executing
//! the binary once more for the sandbox (`spawn.rs`) then pays a second `execve`, the dynamic
//! loader's relocations and Rust's start-up, for a process that is itself fresh: measured here,
//! that is more than the network of a small test costs. So when the harness sees, at the top of
//! `main`, that exactly one test will run, it forks the sandbox at once and the test process
//! runs the body directly.
//!
//! # Why fork without exec is safe here
//!
//! - **One thread.** The fork is made before libtest-mimic starts its worker threads, and only
//!   when `/proc/self/task` lists one thread ([`single_threaded`](super::sys::single_threaded)):
//!   no lock can be held by a thread that the child lacks, so the child may run any code. Else
//!   the harness re-executes, as before.
//! - **Nothing of the harness.** The process has done nothing yet but read its settings and its
//!   command line: no test has run, no runtime, socket or thread exists, no static has been
//!   touched by a test. The test process keeps stdin `/dev/null`, stdout and stderr (the capture
//!   pipe, as a re-executed one would), and closes every other descriptor but its go pipe
//!   (`tests/isolation.rs` lists `/proc/self/fd`, the threads and the statics it sees).
//! - **The same sandbox.** It is the same keeper, init and test processes, made by the same
//!   `Sandbox::enter` as between fork and exec, with the same fallback for real root
//!   (`fallback.rs`); a refused step travels back over a report pipe as the same encoded errno,
//!   and becomes the same `Refusal`.
//! - **The same harness.** The test process waits on a go pipe until libtest-mimic runs the
//!   trial, so the run prints in the same order as before; the trial then waits for the keeper
//!   with `watch.rs` (time limit, capture, keep-on-failure) exactly as for a re-executed one. A
//!   trial that never runs (filtered out, ignored) closes the go pipe: the test process ends
//!   without running anything, and the kernel takes its namespaces down.
//!
//! With more than one test the fork server forks each test's sandbox instead (`server.rs`),
//! and [`REEXEC_ENV`](crate::config::REEXEC_ENV) makes the harness re-execute always (the
//! benchmark compares both in one run).

use std::io::{self, PipeReader, PipeWriter, Read as _, Write as _};
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::unistd::Pid;

use super::spawn::{Ended, ended, spawn_error};
use super::sys::{self, Sandbox, Side};
use super::{fallback, watch};

/// Where [`fork_test`] returns.
#[derive(Debug)]
pub(crate) enum Forked {
    /// In the harness: the sandbox is made and its test process waits to be told to run.
    Harness(Waiting),
    /// In the test process, inside its sandbox: wait for the harness's word, then run the test.
    Test(Go),
}

/// A sandboxed test process that waits for [`Waiting::run`].
#[derive(Debug)]
pub(crate) struct Waiting {
    keeper: Pid,
    go: PipeWriter,
    output: Option<PipeReader>,
}

/// The test process's end of the go pipe.
#[derive(Debug)]
pub(crate) struct Go(PipeReader);

impl Go {
    /// Waits until the harness runs the trial: `true` to run the test, `false` if the harness
    /// will not (the process must then end with [`sys::exit_now`] at once).
    pub(crate) fn wait(mut self) -> bool {
        let mut byte = [0u8];
        matches!(self.0.read(&mut byte), Ok(1))
    }
}

impl Waiting {
    /// Lets the test process run and waits for it, as `spawn::run_test` does.
    pub(crate) fn run(mut self, timeout: Option<Duration>, keep: bool) -> crate::Result<Ended> {
        let _ = self.go.write_all(&[1]);
        drop(self.go);
        let finished =
            watch::finish(self.keeper, self.output, timeout, keep).map_err(|source| {
                crate::Error::Io {
                    what: "cannot wait for the test process".into(),
                    source,
                }
            })?;
        Ok(ended(finished))
    }
}

/// Forks a test process into a fresh sandbox, without `exec`, capturing its output if
/// `capture`. `None` when the process has more than one thread (the caller re-executes).
///
/// # Safety
///
/// No other thread may start while this runs (the caller is the top of `main`).
pub(crate) unsafe fn fork_test(capture: bool) -> Option<crate::Result<Forked>> {
    if !sys::single_threaded() {
        return None;
    }
    let attempt = |sandbox: Sandbox| -> io::Result<Forked> {
        let (go_read, go_write) = io::pipe()?;
        let (mut report_read, mut report_write) = io::pipe()?;
        let output = if capture { Some(io::pipe()?) } else { None };
        // The child gets a copy of stdout's buffer: a partial line left in it would print twice.
        let _ = io::stdout().flush();
        // SAFETY: one thread, checked above; the caller starts none meanwhile.
        match unsafe { sys::fork_into_sandbox(&sandbox) }? {
            Side::Child(entered) => {
                let code = match &entered {
                    Ok(()) => 0,
                    Err(error) => error.raw_os_error().unwrap_or(i32::MAX),
                };
                let _ = report_write.write_all(&code.to_ne_bytes());
                if entered.is_err() {
                    sys::exit_now(1);
                }
                drop((report_read, report_write, go_write));
                let writer = output.map(|(reader, writer)| {
                    drop(reader);
                    writer
                });
                sys::settle_test_process(
                    writer.as_ref().map(AsRawFd::as_raw_fd),
                    go_read.as_raw_fd(),
                );
                // Closed by `settle_test_process` (its copies are stdout and stderr now).
                std::mem::forget(writer);
                Ok(Forked::Test(Go(go_read)))
            }
            Side::Caller(keeper) => {
                drop((report_write, go_read));
                let output = output.map(|(reader, _writer)| reader);
                let mut raw = [0u8; 4];
                let read = report_read.read_exact(&mut raw);
                let code = i32::from_ne_bytes(raw);
                if read.is_err() || code != 0 {
                    let status = sys::reap(keeper)?;
                    return Err(match read {
                        Ok(()) => io::Error::from_raw_os_error(code),
                        Err(_) => io::Error::other(format!(
                            "the sandbox ended before its test process started: {}",
                            super::describe_status(status)
                        )),
                    });
                }
                Ok(Forked::Harness(Waiting {
                    keeper: Pid::from_raw(keeper),
                    go: go_write,
                    output,
                }))
            }
        }
    };
    Some(fallback::start_sandboxed(attempt).map_err(spawn_error))
}
