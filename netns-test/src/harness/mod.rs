//! The test harness: the list of tests, libtest's command line, one sandboxed process per test.
//!
//! A test binary built with `netns_test::main!()` plays two parts:
//!
//! - **harness** (started by `cargo test` or `cargo nextest run`, `parent.rs`): it reads
//!   libtest's flags with `libtest-mimic`, and for each selected test has a test process started
//!   in a fresh sandbox ([`crate::sandbox`]), captures what it prints, and reports pass or fail
//!   as libtest does. With many tests the fork server forked at the top of `main` forks each
//!   test process (the sandbox's `server.rs`); a test selected alone (cargo-nextest's `--exact
//!   NAME`) is forked from the top of `main` itself (`preforked.rs`); with
//!   `__NETNS_TEST_REEXEC=1`, or when the server cannot serve, the binary is started again.
//! - **test** (started by the harness, inside the sandbox, with the test's name in
//!   [`CHILD_ENV`](crate::config::CHILD_ENV), `child.rs`): it builds the test's network and runs
//!   the body, and judges how the body ended (`verdict.rs`).
//!
//! The harness never builds a network itself, so a test cannot disturb another one, and a crash
//! of a test (abort, SIGKILL) is just a test failure. Under libtest's own harness (no
//! `harness = false`) the same two parts run through `libtest.rs`. The tests themselves come
//! from the attribute, registered in `registry.rs`; `body.rs` puts a body in its node.
//!
//! This component decides policy (time limits, capture, skip or fail) from the run's
//! [`Config`](crate::config::Config) and passes it down; it never touches the kernel itself.
//!
//! # Timeouts
//!
//! A test's time limit is its `timeout = "..."` if it has one, else
//! [`TIMEOUT_ENV`](crate::TIMEOUT_ENV) if that is set, else none. The harness keeps it (the
//! sandbox's `watch.rs` says why and how) and reports a test past it as "timed out after 10s",
//! with the output captured until then.

mod body;
#[cfg(target_os = "linux")]
mod child;
#[cfg(target_os = "linux")]
mod libtest;
mod parent;
mod registry;
#[cfg(target_os = "linux")]
mod verdict;

pub use body::{block_on, run_in};
#[cfg(target_os = "linux")]
pub use libtest::run_under_libtest;
pub use parent::main;
pub use registry::{IntoOutcome, ShouldPanic, TESTS, TestCase};
