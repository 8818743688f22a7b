//! The test side of the harness: inside its sandbox, build the network and run the body.
//!
//! This runs in the re-executed test binary, as uid 0 of the test's own user namespace, PID 2 of
//! its PID namespace, in a network namespace that becomes the `host` node. What the body leaves
//! behind (threads, sockets, programs, mounts) is not cleaned up here: when this process exits,
//! the sandbox's init exits too and the kernel takes the namespaces down with everything in them.

use std::any::Any;
use std::io::{self, Write as _};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::artifacts::Artifacts;
use crate::capture::{Capture, CaptureMode};
use crate::duration::format_duration;
use crate::harness::{ShouldPanic, TestCase, error_chain};
use crate::sandbox::CHILD_ENV;
use crate::watch::{LIMIT_ENV, TIMED_OUT};
use crate::{Net, keep, sys};

/// Exit code of a test whose body failed (libtest uses the same).
const FAILED: u8 = 101;
/// Exit code of a test whose network could not be built.
const SETUP_FAILED: u8 = 102;

/// Runs the test called `name` and returns the exit code the harness will read.
pub(crate) fn run_named(name: &str, tests: &[TestCase]) -> ExitCode {
    let limit = time_limit();
    // SAFETY: called at the top of `main`, before any other thread exists.
    unsafe {
        std::env::remove_var(CHILD_ENV);
        std::env::remove_var(LIMIT_ENV);
    }
    let Some(case) = tests.iter().find(|case| case.full_name() == name) else {
        eprintln!("netns-test: this binary has no test named `{name}`");
        return ExitCode::from(SETUP_FAILED);
    };
    ExitCode::from(run_case(case, limit))
}

/// Builds the network of `case`, runs its body, and returns the exit code the harness will read.
/// Past `limit`, it reports the network and ends the process instead (see [`crate::watch`]).
pub(crate) fn run_case(case: &TestCase, limit: Option<Duration>) -> u8 {
    let started = Instant::now();
    let artifacts = Artifacts::for_test(&case.full_name());
    // Read now: building the network mounts the test's own /proc.
    let host_pid = keep::requested().then(keep::host_pid).flatten();
    let capture_mode = match CaptureMode::for_run(case.capture) {
        Ok(mode) => mode,
        Err(message) => {
            eprintln!("netns-test: {message}");
            return SETUP_FAILED;
        }
    };
    let net = match Net::build(case.topology) {
        Ok(net) => net,
        Err(error) => {
            eprintln!(
                "netns-test: cannot build the network of this test: {}",
                error_chain(&error)
            );
            return SETUP_FAILED;
        }
    };
    let capture = match Capture::start_if(capture_mode, &net) {
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
                        report_timeout(net, artifacts, capture, limit, host_pid);
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
        // Every frame the body sent is read before anything is written.
        let packets = take(&capture).map(Capture::finish);
        match verdict {
            Ok(()) => {
                if capture_mode == CaptureMode::Always {
                    artifacts.keep_capture(packets.as_deref());
                }
                0
            }
            Err(message) => {
                eprintln!("{message}");
                eprintln!("\nthe network when the test failed:\n{}", picture(&net));
                artifacts.keep_failure(&net, packets.as_deref());
                if keep::requested() {
                    keep::hold(&net, host_pid);
                }
                FAILED
            }
        }
    })
}

/// The time limit the harness gave this test process, if any (see [`crate::watch`]).
pub(crate) fn time_limit() -> Option<Duration> {
    let millis = std::env::var(LIMIT_ENV).ok()?.parse().ok()?;
    Some(Duration::from_millis(millis))
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
/// is now and the capture so far, then the process ends at once (its sandbox with it).
fn report_timeout(
    net: &Net,
    artifacts: &Artifacts,
    capture: &Mutex<Option<Capture>>,
    limit: Duration,
    host_pid: Option<u32>,
) -> ! {
    let packets = take(capture).map(Capture::finish);
    eprintln!(
        "netns-test: the test ran past its time limit of {}",
        format_duration(limit)
    );
    eprintln!("\nthe network when the test timed out:\n{}", picture(net));
    artifacts.keep_failure(net, packets.as_deref());
    if keep::requested() {
        keep::hold(net, host_pid);
    }
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    sys::exit_now(i32::from(TIMED_OUT))
}

/// A body that returned while a task it started with `Node::spawn_async` had panicked unseen
/// counts as having panicked with that panic (so `#[should_panic]` sees it, too).
fn with_unseen_panics(outcome: BodyOutcome) -> BodyOutcome {
    #[cfg(feature = "tokio")]
    if outcome.is_ok()
        && let Some(message) = crate::asynch::unseen_panic()
    {
        eprintln!("{message}");
        return Err(Box::new(message));
    }
    outcome
}

/// How a test body ended: returned (its `Result`, as text), or panicked (the payload).
type BodyOutcome = Result<Result<(), String>, Box<dyn Any + Send>>;

/// Decides pass or fail from how the body ended and what `#[should_panic]` asked for.
fn judge(outcome: BodyOutcome, should_panic: ShouldPanic) -> Result<(), String> {
    match (outcome, should_panic) {
        (Ok(Ok(())), ShouldPanic::No) => Ok(()),
        (Ok(Err(message)), ShouldPanic::No) => Err(message),
        (Err(_), ShouldPanic::No) => Err("the test panicked".into()),
        (Ok(_), _) => Err("note: test did not panic as expected".into()),
        (Err(_), ShouldPanic::Yes) => Ok(()),
        (Err(payload), ShouldPanic::WithMessage(expected)) => {
            let message = panic_message(&*payload);
            if message.contains(expected) {
                Ok(())
            } else {
                Err(format!(
                    "panic did not contain expected string\n      panic message: {message:?}\n \
                     expected substring: {expected:?}"
                ))
            }
        }
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<a panic payload that is not a string>".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panicked(message: &'static str) -> Result<Result<(), String>, Box<dyn Any + Send>> {
        Err(Box::new(message))
    }

    #[test]
    fn verdicts_follow_libtest() {
        assert_eq!(judge(Ok(Ok(())), ShouldPanic::No), Ok(()));
        assert_eq!(
            judge(Ok(Err("Error: x".into())), ShouldPanic::No),
            Err("Error: x".into())
        );
        assert!(judge(panicked("boom"), ShouldPanic::No).is_err());
        assert_eq!(judge(panicked("boom"), ShouldPanic::Yes), Ok(()));
        assert!(judge(Ok(Ok(())), ShouldPanic::Yes).is_err());
        assert_eq!(
            judge(panicked("a boom b"), ShouldPanic::WithMessage("boom")),
            Ok(())
        );
        let wrong = judge(panicked("bang"), ShouldPanic::WithMessage("boom")).unwrap_err();
        assert!(
            wrong.contains("\"bang\"") && wrong.contains("\"boom\""),
            "{wrong}"
        );
    }
}
