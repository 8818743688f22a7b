//! Tests past their time limit, seen from outside: the `harness_fixture` binary's tests that
//! run too long, killed with every process they started, and what they report. (The same under
//! libtest's default harness is in `default_harness.rs`; a kept network past its time limit, in
//! `keep.rs`.)

use std::fs;

use netns_test_suites::support::harness_fixture::{processes_with, unique_marker, verdicts};
use netns_test_suites::support::libtest_output;

use libtest_output::failure_of;

netns_test_suites::harness_fixture!();

/// A test past its `timeout` is killed with every process it started, and its own timeout wins
/// over `NETNS_TEST_TIMEOUT`.
#[test]
fn a_test_past_its_timeout_is_killed_with_its_daemons() {
    let marker = unique_marker();
    let run = fixture_with_env(
        &["--exact", "times_out"],
        &marker,
        &[("NETNS_TEST_TIMEOUT", "10m")],
    );
    assert_eq!(run.code(), Some(101), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        verdicts(&run),
        ["test times_out ... FAILED"],
        "{}",
        run.stdout
    );
    let failure = failure_of(&run.stdout, "times_out");
    assert!(failure.contains("timed out after 1s"), "{failure}");
    assert!(
        failure.contains("now sleeping past the timeout"),
        "{failure}"
    );
    assert_eq!(processes_with(&marker), Vec::<String>::new());
}

/// A test past its time limit shows the network as it was then, and leaves the state of every
/// node, as a failure does: a hang is when they are wanted most.
#[test]
fn a_test_past_its_timeout_shows_the_network_then() {
    let marker = unique_marker();
    let artifacts = std::env::temp_dir().join(format!("netns-test-timeout-{marker}"));
    let run = fixture_with_env(
        &["--exact", "times_out"],
        &marker,
        &[("NETNS_TEST_ARTIFACTS", artifacts.to_str().expect("UTF-8"))],
    );
    let failure = failure_of(&run.stdout, "times_out");
    let dir = artifacts.join("harness_fixture").join("times_out");
    for expected in [
        "netns-test: the test ran past its time limit of 1s".to_string(),
        "the network when the test timed out:\na(eth0 10.0.1.1/24)".to_string(),
        "node `b` (forwarding off)".to_string(),
        format!("the state of every node: {}", dir.display()),
        "note: timed out after 1s".to_string(),
    ] {
        assert!(
            failure.contains(&expected),
            "missing {expected:?} in:\n{failure}"
        );
    }
    let a = fs::read_to_string(dir.join("a.txt")).expect("the state of node a");
    assert!(a.contains("10.0.1.1/24"), "{a}");
    fs::remove_dir_all(&artifacts).expect("remove the artifacts");
    assert_eq!(processes_with(&marker), Vec::<String>::new());
}

/// A test process that cannot report its own timeout (stopped) is killed by the harness a
/// little later, with everything it started.
#[test]
fn a_stopped_test_is_killed_past_its_timeout() {
    let marker = unique_marker();
    let run = fixture_with(&["--ignored", "--exact", "stops_itself"], &marker);
    let failure = failure_of(&run.stdout, "stops_itself");
    assert!(
        failure.contains("daemons started, now stopping"),
        "{failure}"
    );
    assert!(
        failure.contains("note: timed out after 1s: the test was killed"),
        "{failure}"
    );
    assert!(!failure.contains("ran past its time limit"), "{failure}");
    assert_eq!(processes_with(&marker), Vec::<String>::new());
}

/// `NETNS_TEST_TIMEOUT` ends a test that has no timeout of its own.
#[test]
fn the_default_timeout_ends_a_test_without_one() {
    let marker = unique_marker();
    let run = fixture_with_env(
        &["--ignored", "--exact", "runs_until_killed"],
        &marker,
        &[("NETNS_TEST_TIMEOUT", "1500ms")],
    );
    assert_eq!(run.code(), Some(101), "{}{}", run.stdout, run.stderr);
    let failure = failure_of(&run.stdout, "runs_until_killed");
    assert!(failure.contains("timed out after 1500ms"), "{failure}");
    assert!(failure.contains("running until killed"), "{failure}");
    assert_eq!(processes_with(&marker), Vec::<String>::new());
}

#[test]
fn a_bad_default_timeout_fails_the_tests_and_says_why() {
    let run = fixture_with_env(
        &["--exact", "passes"],
        &unique_marker(),
        &[("NETNS_TEST_TIMEOUT", "30")],
    );
    assert_eq!(run.code(), Some(101), "{}", run.stdout);
    assert!(
        failure_of(&run.stdout, "passes").contains("NETNS_TEST_TIMEOUT: `30` needs a unit"),
        "{}",
        run.stdout
    );
}
