//! The tests of a binary: one [`TestCase`] per `#[netns_test]` function, registered by the
//! attribute in the distributed slice [`TESTS`], which both harnesses read.

use std::fmt::Debug;
use std::time::Duration;

use crate::Net;
use crate::failure::CaptureMode;

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
    /// `timeout = "..."`: the test's time limit, before [`TIMEOUT_ENV`](crate::TIMEOUT_ENV).
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
