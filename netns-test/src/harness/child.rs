//! The test side of the harness: inside its sandbox, build the network and run the body.
//!
//! This runs in the re-executed test binary, as uid 0 of the test's own user namespace, PID 2 of
//! its PID namespace, in a network namespace that becomes the `host` node. What the body leaves
//! behind (threads, sockets, programs, mounts) is not cleaned up here: when this process exits,
//! the sandbox's init exits too and the kernel takes the namespaces down with everything in them.

use std::io::{self, Write as _};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use netns_test_topology::format_duration;

use super::TestCase;
use super::verdict::{judge, with_unseen_panics};
use crate::Net;
use crate::config::Config;
use crate::error::error_chain;
use crate::failure::{Artifacts, Capture, Scratch, keep};
use crate::sandbox::{TIMED_OUT, exit_now};

/// Exit code of a test whose body failed (libtest uses the same).
const FAILED: u8 = 101;
/// Exit code of a test whose network could not be built.
pub(super) const SETUP_FAILED: u8 = 102;

/// Runs the test called `name`, within `limit`, and returns the exit code the harness will read.
pub(crate) fn run_named(
    name: &str,
    limit: Option<Duration>,
    tests: &[TestCase],
    config: &Config,
) -> ExitCode {
    let Some(case) = tests.iter().find(|case| case.full_name() == name) else {
        eprintln!("netns-test: this binary has no test named `{name}`");
        return ExitCode::from(SETUP_FAILED);
    };
    ExitCode::from(run_case(case, limit, config))
}

/// Says why the test cannot run (a setting of the run, a place for its files) and gives the
/// exit code of a test that could not be set up.
fn refuse(message: &str) -> u8 {
    eprintln!("netns-test: {message}");
    SETUP_FAILED
}

/// Builds the network of `case`, runs its body, and returns the exit code the harness will read.
/// Past `limit`, it reports the network and ends the process instead (see the sandbox's
/// `watch.rs`).
pub(crate) fn run_case(case: &TestCase, limit: Option<Duration>, config: &Config) -> u8 {
    let started = Instant::now();
    let artifacts = match Artifacts::for_test(&case.full_name(), &config.artifacts) {
        Ok(artifacts) => artifacts,
        Err(message) => return refuse(&message),
    };
    // The test's TMPDIR, made before any thread starts; removed when the test passes.
    let _scratch = match Scratch::create(&artifacts) {
        Ok(scratch) => scratch,
        Err(message) => return refuse(&message),
    };
    // Read now: building the network mounts the test's own /proc.
    let host_pid = config.keep.then(keep::host_pid).flatten();
    let keep = config.keep;
    let capture_mode = match config.capture_mode(case.capture) {
        Ok(mode) => mode,
        Err(message) => return refuse(&message),
    };
    let dns = match &config.dns {
        Ok(dns) => *dns,
        Err(message) => return refuse(message),
    };
    let impair = match &config.impair {
        Ok(impair) => *impair,
        Err(message) => {
            return refuse(&format!("cannot build the network of this test: {message}"));
        }
    };
    let net = match Net::build(case.topology, dns, impair) {
        Ok(net) => net,
        Err(error) => {
            eprintln!(
                "netns-test: cannot build the network of this test: {}",
                error_chain(&error)
            );
            return SETUP_FAILED;
        }
    };
    let capture = match Capture::start_if(capture_mode, &net, || artifacts.capture_file()) {
        Ok(capture) => Mutex::new(capture),
        Err(error) => {
            eprintln!("netns-test: {}", error_chain(&error));
            return SETUP_FAILED;
        }
    };
    let ending = Ending::default();
    thread::scope(|scope| {
        if let Some(limit) = limit {
            let (net, artifacts, capture, ending) = (&net, &artifacts, &capture, &ending);
            thread::Builder::new()
                .name("netns-test-time-limit".into())
                .spawn_scoped(scope, move || {
                    if ending.wait_until(started + limit) {
                        report_timeout(net, artifacts, capture, limit, keep.then_some(host_pid));
                    }
                })
                .expect("cannot start the thread that keeps the time limit");
        }
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (case.body)(&net)));
        if !ending.body_ended() {
            // Out of time: the time-limit thread reports and ends the process.
            loop {
                thread::park();
            }
        }
        let verdict = judge(with_unseen_panics(outcome), case.should_panic);
        // Every frame the body sent is written before the verdict is.
        let captured = take(&capture).map(Capture::finish).is_some();
        match verdict {
            Ok(()) => {
                if captured && capture_mode.keeps_passing() {
                    artifacts.keep_capture();
                } else if captured {
                    artifacts.discard();
                }
                0
            }
            Err(message) => {
                eprintln!("{message}");
                eprintln!("\nthe network when the test failed:\n{}", picture(&net));
                artifacts.keep_failure(&net, captured);
                if keep {
                    keep::hold(&net, host_pid);
                }
                FAILED
            }
        }
    })
}

/// The picture of the network (from the plan: it reads fastest), then the network as the
/// kernel sees it (the truth).
fn picture(net: &Net) -> String {
    format!("{}\n{}", net.topology().picture(), net.report())
}

fn take(capture: &Mutex<Option<Capture>>) -> Option<Capture> {
    capture.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// Who ends the test: the body, by returning (or panicking) in time, or the time limit.
#[derive(Debug, Default)]
struct Ending {
    decided: Mutex<Option<Ender>>,
    changed: Condvar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ender {
    Body,
    TimeLimit,
}

impl Ending {
    /// Says the body has ended; `false` if the time limit had ended the test already.
    fn body_ended(&self) -> bool {
        self.decide(Ender::Body)
    }

    /// Waits until `deadline` or the body's end, whichever comes first; `true` if the deadline
    /// came first, and so the test is the time limit's to end.
    fn wait_until(&self, deadline: Instant) -> bool {
        let mut decided = self.decided.lock().unwrap_or_else(|e| e.into_inner());
        while decided.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                *decided = Some(Ender::TimeLimit);
                return true;
            }
            decided = self
                .changed
                .wait_timeout(decided, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *decided == Some(Ender::TimeLimit)
    }

    fn decide(&self, ender: Ender) -> bool {
        let mut decided = self.decided.lock().unwrap_or_else(|e| e.into_inner());
        let first = decided.is_none();
        decided.get_or_insert(ender);
        self.changed.notify_all();
        first
    }
}

/// The end of a test past its time limit, while its body is still running: the network as it
/// is now and the capture so far, then the process ends at once (its sandbox with it). With
/// `keep` (the pid on the host, when keep-on-failure is asked), the network is held first.
fn report_timeout(
    net: &Net,
    artifacts: &Artifacts,
    capture: &Mutex<Option<Capture>>,
    limit: Duration,
    keep: Option<Option<u32>>,
) -> ! {
    let captured = take(capture).map(Capture::finish).is_some();
    eprintln!(
        "netns-test: the test ran past its time limit of {}",
        format_duration(limit)
    );
    eprintln!("\nthe network when the test timed out:\n{}", picture(net));
    artifacts.keep_failure(net, captured);
    if let Some(host_pid) = keep {
        keep::hold(net, host_pid);
    }
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    exit_now(i32::from(TIMED_OUT))
}
