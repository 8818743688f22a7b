//! The test side of the harness: inside its sandbox, build the network and run the body.
//!
//! This runs in the re-executed test binary, as uid 0 of the test's own user namespace, PID 2 of
//! its PID namespace, in a network namespace that becomes the `host` node. What the body leaves
//! behind (threads, sockets, programs, mounts) is not cleaned up here: when this process exits,
//! the sandbox's init exits too and the kernel takes the namespaces down with everything in them.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use crate::artifacts::Artifacts;
use crate::capture::{Capture, CaptureMode};
use crate::harness::{ShouldPanic, TestCase, error_chain};
use crate::sandbox::CHILD_ENV;
use crate::{Net, keep};

/// Exit code of a test whose body failed (libtest uses the same).
const FAILED: u8 = 101;
/// Exit code of a test whose network could not be built.
const SETUP_FAILED: u8 = 102;

/// Runs the test called `name` and returns the exit code the harness will read.
pub(crate) fn run_named(name: &str, tests: &[TestCase]) -> ExitCode {
    // SAFETY: called at the top of `main`, before any other thread exists.
    unsafe { std::env::remove_var(CHILD_ENV) };
    let Some(case) = tests.iter().find(|case| case.full_name() == name) else {
        eprintln!("netns-test: this binary has no test named `{name}`");
        return ExitCode::from(SETUP_FAILED);
    };
    ExitCode::from(run_case(case))
}

/// Builds the network of `case`, runs its body, and returns the exit code the harness will read.
pub(crate) fn run_case(case: &TestCase) -> u8 {
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
        Ok(capture) => capture,
        Err(error) => {
            eprintln!("netns-test: {}", error_chain(&error));
            return SETUP_FAILED;
        }
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| (case.body)(&net)));
    let verdict = judge(with_unseen_panics(outcome), case.should_panic);
    // Every frame the body sent is read before anything is written.
    let packets = capture.map(Capture::finish);
    match verdict {
        Ok(()) => {
            if capture_mode == CaptureMode::Always {
                artifacts.keep_capture(packets.as_deref());
            }
            0
        }
        Err(message) => {
            eprintln!("{message}");
            // The picture (from the plan) reads fastest; the live state below it is the truth.
            eprintln!(
                "\nthe network when the test failed:\n{}\n{}",
                net.topology().picture(),
                net.report()
            );
            artifacts.keep_failure(&net, packets.as_deref());
            if keep::requested() {
                keep::hold(&net, host_pid);
            }
            FAILED
        }
    }
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
