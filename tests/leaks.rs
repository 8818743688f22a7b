//! The leak audit: test binaries whose tests pass, fail, panic, abort, exit, kill themselves,
//! start daemons, fill a node with links, hang past their timeout, hang until their harness is
//! SIGKILLed, and a run of 500 tests at once. Before each run the host is read (mounts,
//! `/run/netns`, the host namespace's interfaces, addresses and routes, the run's processes,
//! temporary files); after it, the host must read the same, and any difference fails the test,
//! naming what was left. A test killed for its timeout must also be reported as such.
//!
//! The kernel frees a namespace shortly after its last process is gone, so the comparison polls
//! for a bounded moment (`PATIENCE`) before it fails. The audits read global state, so they run
//! one at a time (a lock here, a nextest test group in `.config/nextest.toml`).

use netns_test_suites::support::host_state;
use netns_test_suites::support::libtest_output;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use host_state::{HostState, Run, settle};
use libtest_output::failure_of;

/// How long the kernel may take to free what a run left, before the audit calls it a leak.
const PATIENCE: Duration = Duration::from_secs(5);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A test binary of this package: where cargo built it, or where cargo-nextest unpacked it.
fn binary(name: &str, built: &str) -> PathBuf {
    let path = std::env::var(format!("NEXTEST_BIN_EXE_{name}")).unwrap_or_else(|_| built.into());
    fs::canonicalize(&path).unwrap_or_else(|e| panic!("cannot find {path}: {e}"))
}

fn audited() -> PathBuf {
    binary("leaks_fixture", env!("CARGO_BIN_EXE_leaks_fixture"))
}

fn many() -> PathBuf {
    binary(
        "leaks_many_fixture",
        env!("CARGO_BIN_EXE_leaks_many_fixture"),
    )
}

/// A marker no other run uses (a number, as `sleep` wants).
fn marker(run: u32) -> String {
    format!("4242.{}{run:02}", std::process::id())
}

/// The directories of one audited run: its `TMPDIR`, and where its tests announce that they run.
/// Made before the host is read, removed after the comparison.
struct Scratch {
    root: PathBuf,
    temp: PathBuf,
    ready: PathBuf,
}

impl Scratch {
    fn new(marker: &str) -> Scratch {
        let root = std::env::temp_dir().join(format!("netns-test-leaks-{marker}"));
        let temp = root.join("tmp");
        let ready = root.join("ready");
        fs::create_dir_all(&temp).expect("create the run's TMPDIR");
        fs::create_dir_all(&ready).expect("create the ready directory");
        Scratch { root, temp, ready }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Normalises libtest-mimic's padded `test NAME   ... RESULT` lines.
fn text(output: &Output) -> String {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    all.lines()
        .map(|l| {
            if l.starts_with("test ") && l.contains(" ... ") {
                l.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fails, naming every difference, if the host does not read as `before` again in time.
fn assert_nothing_left(before: &HostState, run: &Run<'_>, run_output: &str) {
    let differences = settle(before, run, PATIENCE);
    assert!(
        differences.is_empty(),
        "the run left this on the host:\n  {}\n\nthe run's output:\n{run_output}",
        differences.join("\n  ")
    );
}

#[test]
fn every_ending_leaves_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let marker = marker(1);
    let binaries = [audited()];
    let scratch = Scratch::new(&marker);
    let run = Run {
        binaries: &binaries,
        marker: &marker,
        temp_dir: &scratch.temp,
    };
    let before = HostState::read(&run);
    let output = Command::new(&binaries[0])
        .arg("--test-threads=4")
        .env("FIXTURE_MARKER", &marker)
        .env("TMPDIR", &scratch.temp)
        .output()
        .expect("run the audited binary");
    let all = text(&output);
    assert_eq!(output.status.code(), Some(101), "{all}");
    for verdict in [
        "test passes ... ok",
        "test passes_with_daemons ... ok",
        "test fills_a_node_with_links ... ok",
        "test fails_an_assertion ... FAILED",
        "test panics ... FAILED",
        "test aborts ... FAILED",
        "test exits_with_a_code ... FAILED",
        "test kills_itself ... FAILED",
        "test times_out ... FAILED",
        "test hangs ... ignored",
    ] {
        assert!(all.contains(verdict), "missing {verdict:?} in:\n{all}");
    }
    // Killed for its timeout, and only once its daemons ran.
    let timed_out = failure_of(&all, "times_out");
    for expected in [
        "daemons started, hanging past the timeout",
        "timed out after 2s",
    ] {
        assert!(
            timed_out.contains(expected),
            "missing {expected:?} in:\n{timed_out}"
        );
    }
    assert_nothing_left(&before, &run, &all);
    println!(
        "checked {} things on the host: {}",
        before.total(),
        before.counts()
    );
}

#[test]
fn a_harness_killed_midway_leaves_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let marker = marker(2);
    let binaries = [audited()];
    let scratch = Scratch::new(&marker);
    let run = Run {
        binaries: &binaries,
        marker: &marker,
        temp_dir: &scratch.temp,
    };
    let before = HostState::read(&run);
    let mut harness = Command::new(&binaries[0])
        .args(["--include-ignored", "--test-threads=9"])
        .env("FIXTURE_MARKER", &marker)
        .env("TMPDIR", &scratch.temp)
        .env("FIXTURE_READY_DIR", &scratch.ready)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the audited binary");

    // Wait until the hanging test runs with its daemons: the run is midway.
    let start = Instant::now();
    let midway = loop {
        let running = HostState::read(&run).differences_from(&before);
        let daemons = running
            .iter()
            .filter(|d| d.starts_with("left: process") && d.contains(&format!("sleep {marker}")))
            .count();
        if scratch.ready.join("hangs").exists() && daemons > 0 {
            break running;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the hanging test never started; the host now differs by:\n  {}",
            running.join("\n  ")
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    harness.kill().expect("SIGKILL the harness");
    let status = harness.wait().expect("reap the harness");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "{status}"
    );

    let context = format!(
        "midway, before the SIGKILL, the host differed by:\n  {}",
        midway.join("\n  ")
    );
    assert_nothing_left(&before, &run, &context);
}

#[test]
fn five_hundred_tests_in_parallel_leave_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let marker = marker(3);
    let binaries = [many()];
    let scratch = Scratch::new(&marker);
    let run = Run {
        binaries: &binaries,
        marker: &marker,
        temp_dir: &scratch.temp,
    };
    let before = HostState::read(&run);
    let start = Instant::now();
    let output = Command::new(&binaries[0])
        .arg("--test-threads=8")
        .env("FIXTURE_MARKER", &marker)
        .env("TMPDIR", &scratch.temp)
        .output()
        .expect("run the 500 tests");
    let took = start.elapsed();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(101), "{all}");
    assert!(
        all.contains("test result: FAILED. 300 passed; 200 failed; 0 ignored"),
        "{all}"
    );
    let timed_out = all.matches("timed out after 1s").count();
    assert_eq!(timed_out, 50, "{all}");
    assert_nothing_left(&before, &run, &all);
    println!(
        "500 tests (300 passed, 200 failed, 50 of them by timeout, 250 with daemons) in {:.1} s, \
         8 at a time; checked {} things on the host before and after: {}",
        took.as_secs_f64(),
        before.total(),
        before.counts()
    );
}
