//! Running the `harness_fixture` binary, for the suites that drive it: `tests/harness.rs` (how
//! every test ends, libtest's flags) and `tests/timeouts.rs` (tests past their time limit).
//!
//! Where the binary is can only be known in the suite itself (`CARGO_BIN_EXE_harness_fixture`
//! is set when an integration test is compiled, not this library), so the functions that run it
//! are made in the suite by [`harness_fixture!`](crate::harness_fixture); the rest is here.

use std::fs;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A `sleep` argument no other run uses, so that a survivor is recognisable.
pub fn unique_marker() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("31337.{}{:04}", std::process::id(), n)
}

#[derive(Debug)]
pub struct Run {
    pub output: Output,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
}

/// Runs the fixture at `path` with `args`, its daemons tagged with `marker`, with no
/// `NETNS_TEST_TIMEOUT` but what `env` sets.
pub fn run(path: &str, args: &[&str], marker: &str, env: &[(&str, &str)]) -> Run {
    let output = Command::new(path)
        .args(args)
        .env("FIXTURE_MARKER", marker)
        .env_remove("NETNS_TEST_TIMEOUT")
        .envs(env.iter().copied())
        .output()
        .expect("run the fixture binary");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output,
    }
}

/// The `test NAME ... RESULT` lines of a run, sorted, with libtest-mimic's padding removed.
pub fn verdicts(run: &Run) -> Vec<String> {
    let mut lines: Vec<String> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("test ") && l.contains(" ... "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}

/// Processes on the host whose command line carries `marker`.
pub fn processes_with(marker: &str) -> Vec<String> {
    fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(marker))
        .collect()
}

/// Makes, in the suite that calls it, the functions that run the `harness_fixture` binary:
/// `fixture_path()`, `fixture(args)`, `fixture_with(args, marker)` and
/// `fixture_with_env(args, marker, env)`.
#[macro_export]
macro_rules! harness_fixture {
    () => {
        /// The fixture binary: where cargo built it, or where cargo-nextest unpacked it from an
        /// archive.
        #[allow(dead_code)]
        fn fixture_path() -> String {
            std::env::var("NEXTEST_BIN_EXE_harness_fixture")
                .unwrap_or_else(|_| env!("CARGO_BIN_EXE_harness_fixture").to_string())
        }

        #[allow(dead_code)]
        fn fixture_with(args: &[&str], marker: &str) -> $crate::support::harness_fixture::Run {
            fixture_with_env(args, marker, &[])
        }

        #[allow(dead_code)]
        fn fixture_with_env(
            args: &[&str],
            marker: &str,
            env: &[(&str, &str)],
        ) -> $crate::support::harness_fixture::Run {
            $crate::support::harness_fixture::run(&fixture_path(), args, marker, env)
        }

        #[allow(dead_code)]
        fn fixture(args: &[&str]) -> $crate::support::harness_fixture::Run {
            fixture_with(args, &$crate::support::harness_fixture::unique_marker())
        }
    };
}
