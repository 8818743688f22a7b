//! `#[netns_test]` under libtest's own harness, in a test target without `harness = false`.
//!
//! There the attribute generates, beside the registered test case, an ordinary `#[test]`
//! function with the test's name, which calls [`run_under_libtest`]. libtest runs it on one of its threads, in a process with many
//! threads, where no user namespace can be made. So it does what this crate's own harness does:
//! it starts the test binary again, in a fresh sandbox (made between fork and exec, see
//! the sandbox's `sys.rs`), with libtest's own flags to run this one test (`--exact NAME --nocapture
//! --test-threads=1 --include-ignored`) and [`CHILD_ENV`] naming it. In that process libtest
//! runs the same `#[test]` function, which sees the variable and runs the body: the process is
//! already inside its sandbox. The parent relays what the child printed and fails if it failed.
//!
//! What the custom harness (`harness = false` with [`crate::main!`]) adds over this: the
//! output of programs a test starts is captured with the test's (libtest only captures what the
//! test thread prints, so the parent relays it as the test's output), a refused test can be
//! reported as ignored (`NETNS_TEST_UNSUPPORTED=skip`; libtest has no run-time skip, so here it
//! passes and prints why), no extra libtest start-up per test, and `--list` costs nothing.

use netns_test_topology::format_duration;

use super::{TESTS, child};
use crate::config::{CHILD_ENV, Config};
use crate::error::error_chain;
use crate::sandbox;

/// Runs the test case registered as function `function` of module `module_path` the way
/// libtest's harness expects of a `#[test]` function: returns if it passed, panics with its
/// output and ending if it failed.
#[track_caller]
pub fn run_under_libtest(module_path: &str, function: &str) {
    let Some(case) = TESTS
        .iter()
        .find(|case| case.module_path == module_path && case.name == function)
    else {
        panic!("netns-test: no test case registered for {module_path}::{function}");
    };
    let name = case.full_name();
    // libtest owns `main` here: the harness's word to the test process is read where the test
    // runs, without taking it out of the environment (the process has threads).
    let config = Config::from_env();
    if std::env::var_os(CHILD_ENV).is_some_and(|child| child == name.as_str()) {
        // Inside the sandbox: run the body and end the process with the verdict, as the custom
        // harness's test process does.
        let limit = crate::config::child_time_limit();
        std::process::exit(i32::from(child::run_case(case, limit, &config)));
    }
    let args = [
        "--exact",
        &name,
        "--nocapture",
        "--test-threads=1",
        "--include-ignored",
        "--quiet",
    ];
    let timeout = config
        .time_limit(case.timeout)
        .unwrap_or_else(|message| panic!("{message}"));
    let ended = match sandbox::run_test(&name, &args, true, timeout, config.keep) {
        Ok(ended) => ended,
        Err(crate::Error::Refused(refusal)) => {
            match config.on_unsupported.verdict(&refusal.to_string()) {
                Ok(reason) => {
                    println!("SKIPPED: {reason}");
                    return;
                }
                Err(message) => panic!("{message}"),
            }
        }
        Err(error) => panic!("{}", error_chain(&error)),
    };
    print!("{}", without_libtest_chatter(&ended.output));
    if let Some(timeout) = timeout
        && ended.timed_out
    {
        panic!(
            "timed out after {}: the test was killed with every process it started",
            format_duration(timeout)
        );
    }
    if !ended.status.success() {
        panic!("{}", sandbox::describe_status(ended.status));
    }
}

/// The child's output without the lines its libtest prints around the test (`running 1 test`,
/// the result line), which would only confuse the parent's report.
fn without_libtest_chatter(output: &str) -> String {
    output
        .lines()
        .filter(|line| !(line.starts_with("running 1 test") || line.starts_with("test result:")))
        .map(|line| format!("{line}\n"))
        .collect()
}
