//! The test harness: the list of tests, libtest's command line, one sandboxed process per test.
//!
//! A test binary built with `netns_test::main!()` plays two parts:
//!
//! - **harness** (started by `cargo test` or `cargo nextest run`): it reads libtest's flags with
//!   `libtest-mimic`, and for each selected test starts the binary again in a fresh sandbox
//!   ([`crate::sandbox`]), captures what it prints, and reports pass or fail as libtest does.
//! - **test** (started by the harness, inside the sandbox, with [`CHILD_ENV`] naming the test):
//!   it builds the test's network and runs the body ([`crate::runner`]).
//!
//! The harness never builds a network itself, so a test cannot disturb another one, and a crash
//! of a test (abort, SIGKILL) is just a test failure.
//!
//! # Timeouts
//!
//! A test's time limit is its `timeout = "..."` if it has one, else [`TIMEOUT_ENV`] if that is
//! set, else none. The harness keeps it ([`crate::watch`] says why and how) and reports a test
//! past it as "timed out after 10s", with the output captured until then.

use std::fmt::Debug;
use std::process::ExitCode;
use std::time::Duration;

use libtest_mimic::{Arguments, Trial};
#[cfg(target_os = "linux")]
use libtest_mimic::{Completion, Failed};

use crate::Net;
use crate::capture::CaptureMode;
#[cfg(target_os = "linux")]
use crate::duration::format_duration;
use crate::duration::parse_duration;
#[cfg(not(target_os = "linux"))]
use crate::elsewhere::run_trial;
#[cfg(target_os = "linux")]
use crate::sandbox::{self, CHILD_ENV};
#[cfg(target_os = "linux")]
use crate::unsupported::OnUnsupported;

/// The environment variable that gives every test without a `timeout = "..."` a time limit:
/// `NETNS_TEST_TIMEOUT=30s` (units `ms`, `s`, `m`).
pub const TIMEOUT_ENV: &str = "NETNS_TEST_TIMEOUT";

/// One `#[netns_test]` function, registered by the attribute through a distributed slice.
#[derive(Debug)]
pub struct TestCase {
    /// `module_path!()` at the test's definition (starts with the crate name).
    pub module_path: &'static str,
    /// The function's name.
    pub name: &'static str,
    /// The topology text (from `topology = "..."` or the contents of `topology_file`).
    pub topology: &'static str,
    /// `#[ignore]` was present.
    pub ignore: bool,
    /// The reason given with `#[ignore = "..."]`.
    pub ignore_reason: Option<&'static str>,
    /// What `#[should_panic]` said.
    pub should_panic: ShouldPanic,
    /// `node = "..."`: the node the body runs in; `None` for `host`.
    pub node: Option<&'static str>,
    /// `timeout = "..."`: the test's time limit, before [`TIMEOUT_ENV`].
    pub timeout: Option<Duration>,
    /// Runs the body; `Err` carries the message of a returned error.
    pub body: fn(&Net) -> Result<(), String>,
    /// `file!()` of the function, for reports.
    pub file: &'static str,
    /// `line!()` of the function, for reports.
    pub line: u32,
    /// What `capture` on the attribute asked for.
    pub capture: CaptureMode,
}

impl TestCase {
    /// The name libtest would give: the module path without the crate, then the function.
    pub fn full_name(&self) -> String {
        match self.module_path.split_once("::") {
            Some((_crate, path)) => format!("{path}::{}", self.name),
            None => self.name.to_string(),
        }
    }
}

/// The meaning of a `#[should_panic]` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShouldPanic {
    /// No `#[should_panic]`.
    No,
    /// `#[should_panic]`.
    Yes,
    /// `#[should_panic(expected = "...")]`: the panic message must contain this text.
    WithMessage(&'static str),
}

/// Every test of the binary.
#[linkme::distributed_slice]
pub static TESTS: [TestCase];

/// Turns what a test body returns into pass or fail.
#[diagnostic::on_unimplemented(
    message = "a `#[netns_test]` function must return `()` or `Result<(), E>` with `E: Debug`, not `{Self}`",
    label = "this return type is not supported"
)]
pub trait IntoOutcome {
    /// `Ok` passes, `Err` fails with that message.
    fn into_outcome(self) -> Result<(), String>;
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Debug> IntoOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|e| format!("Error: {e:?}"))
    }
}

/// The `main` of a test binary (see [`crate::main!`]).
pub fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    if let Some(name) = std::env::var_os(CHILD_ENV) {
        return crate::runner::run_named(&name.to_string_lossy(), &TESTS);
    }
    let args = Arguments::from_args();
    // A test kept on failure prints how to enter its nodes while it waits: that must not sit in
    // a pipe until it ends.
    #[cfg(target_os = "linux")]
    let capture = !args.nocapture && !crate::keep::requested();
    #[cfg(not(target_os = "linux"))]
    let capture = !args.nocapture;
    let default_timeout = default_timeout();
    let mut cases: Vec<&'static TestCase> = TESTS.iter().collect();
    cases.sort_by_key(|case| case.full_name());
    let trials = cases
        .into_iter()
        .map(|case| {
            let name = case.full_name();
            let ignored = case.ignore;
            let timeout = match (case.timeout, &default_timeout) {
                (Some(timeout), _) => Ok(Some(timeout)),
                (None, default) => default.clone(),
            };
            Trial::ignorable_test(name.clone(), move || run_trial(&name, capture, timeout?))
                .with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

/// The time limit [`TIMEOUT_ENV`] gives, or why it cannot be read (which fails every test that
/// has no `timeout` of its own, rather than run it without the limit it was meant to have).
pub(crate) fn default_timeout() -> Result<Option<Duration>, String> {
    match std::env::var(TIMEOUT_ENV) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => parse_duration(&text)
            .map(Some)
            .map_err(|message| format!("{TIMEOUT_ENV}: {message}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "{TIMEOUT_ENV} is not valid UTF-8: write a duration such as `30s`"
        )),
    }
}

/// Runs one test in its sandbox and turns its ending into libtest-mimic's verdict. A host that
/// refuses the sandbox fails the test, or skips it when [`OnUnsupported`] says so.
#[cfg(target_os = "linux")]
fn run_trial(name: &str, capture: bool, timeout: Option<Duration>) -> Result<Completion, Failed> {
    let ended = match sandbox::run_test(name, capture, timeout) {
        Ok(ended) => ended,
        Err(crate::Error::Refused(refusal)) => {
            return OnUnsupported::from_env()
                .verdict(&refusal.to_string())
                .map(Completion::ignored_with)
                .map_err(Failed::from);
        }
        Err(error) => return Err(error_chain(&error).into()),
    };
    if ended.status.success() && !ended.timed_out {
        return Ok(Completion::Completed);
    }
    let mut message = ended.output;
    if !message.is_empty() && !message.ends_with('\n') {
        message.push('\n');
    }
    message.push_str("note: ");
    match timeout {
        Some(timeout) if ended.timed_out => message.push_str(&format!(
            "timed out after {}: the test was killed with every process it started",
            format_duration(timeout)
        )),
        _ => message.push_str(&sandbox::describe_status(ended.status)),
    }
    Err(message.into())
}

/// An error and all its causes, one per line.
#[cfg(target_os = "linux")]
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    text
}
