//! The harness, seen from outside: the `harness_fixture` binary run with libtest's flags, what
//! it reports for every way a test can end. Tests past their time limit are in `timeouts.rs`;
//! what runs leave on the host is audited in `leaks.rs`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netns_test_suites::support::harness_fixture::{processes_with, unique_marker, verdicts};
use netns_test_suites::support::libtest_output;

use libtest_output::failure_of;

netns_test_suites::harness_fixture!();

#[test]
fn every_ending_is_reported_as_libtest_does() {
    let run = fixture(&[]);
    assert_eq!(run.code(), Some(101), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        verdicts(&run),
        [
            "test aborts ... FAILED",
            "test exits_with_a_code ... FAILED",
            "test fails_an_assertion ... FAILED",
            "test fails_with_daemons ... FAILED",
            "test ignored_by_default ... ignored",
            "test kills_itself ... FAILED",
            "test nested::inner ... ok",
            "test passes ... ok",
            "test passes_with_daemons ... ok",
            "test returns_an_error ... FAILED",
            "test runs_until_killed ... ignored",
            "test should_panic_and_does ... ok",
            "test should_panic_but_does_not ... FAILED",
            "test stops_itself ... ignored",
            "test times_out ... FAILED",
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "test result: FAILED. 4 passed; 8 failed; 3 ignored; 0 measured; 0 filtered out"
        ),
        "{}",
        run.stdout
    );

    let assertion = failure_of(&run.stdout, "fails_an_assertion");
    for expected in [
        "printed on stdout by the body",
        "printed on stderr by the body",
        "printed by a program in node a",
        "the address of a",
        "left: \"10.0.1.1\"",
        "the network when the test failed",
        "a(eth0 10.0.1.1/24) --- (eth0 10.0.1.2/24)b",
        "10.0.1.2/24",
        "fd00:0:0:1::2/64",
        "fd00:0:0:1::/64 dev eth0 proto kernel",
        "the test process exited with code 101",
    ] {
        assert!(
            assertion.contains(expected),
            "missing {expected:?} in:\n{assertion}"
        );
    }
    // Link-local addresses and routes, which every interface has, are left out.
    assert!(!assertion.contains("fe80"), "{assertion}");
    let aborted = failure_of(&run.stdout, "aborts");
    assert!(aborted.contains("about to abort"), "{aborted}");
    assert!(
        aborted.contains("killed by signal 6 (SIGABRT)"),
        "{aborted}"
    );
    let killed = failure_of(&run.stdout, "kills_itself");
    assert!(killed.contains("killed by signal 9 (SIGKILL)"), "{killed}");
    let exited = failure_of(&run.stdout, "exits_with_a_code");
    assert!(exited.contains("exited with code 7"), "{exited}");
    let error = failure_of(&run.stdout, "returns_an_error");
    assert!(error.contains("the body returned this error"), "{error}");
    let no_panic = failure_of(&run.stdout, "should_panic_but_does_not");
    assert!(
        no_panic.contains("test did not panic as expected"),
        "{no_panic}"
    );
    let timed_out = failure_of(&run.stdout, "times_out");
    for expected in [
        "daemons started, now sleeping past the timeout",
        "note: timed out after 1s: the test was killed with every process it started",
    ] {
        assert!(
            timed_out.contains(expected),
            "missing {expected:?} in:\n{timed_out}"
        );
    }
    // The output of passing tests is not shown.
    assert!(!run.stdout.contains("---- passes ----"), "{}", run.stdout);
}

#[test]
fn daemons_die_with_their_test_while_the_harness_goes_on() {
    let marker = unique_marker();
    let run = fixture_with(&["daemons", "--test-threads=1"], &marker);
    assert_eq!(run.code(), Some(101), "{}", run.stdout);
    assert!(run.stdout.contains("2 passed") || run.stdout.contains("1 passed"));
    assert_eq!(processes_with(&marker), Vec::<String>::new());
}

#[test]
fn list_terse_prints_only_name_and_kind() {
    let run = fixture(&["--list", "--format", "terse"]);
    assert_eq!(run.code(), Some(0));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 15, "{}", run.stdout);
    assert!(
        lines.iter().all(|l| l.ends_with(": test")),
        "{}",
        run.stdout
    );
    assert!(lines.contains(&"nested::inner: test"));

    let ignored = fixture(&["--list", "--format", "terse", "--ignored"]);
    assert_eq!(
        ignored.stdout.trim(),
        "ignored_by_default: test\nruns_until_killed: test\nstops_itself: test"
    );
}

#[test]
fn a_filter_selects_by_substring() {
    let run = fixture(&["passes"]);
    assert_eq!(run.code(), Some(0), "{}", run.stdout);
    assert_eq!(
        verdicts(&run),
        ["test passes ... ok", "test passes_with_daemons ... ok"]
    );
    assert!(run.stdout.contains("13 filtered out"), "{}", run.stdout);
}

#[test]
fn exact_runs_one_test() {
    let run = fixture(&["--exact", "passes"]);
    assert_eq!(verdicts(&run), ["test passes ... ok"], "{}", run.stdout);
}

#[test]
fn skip_leaves_tests_out() {
    let run = fixture(&["passes", "--skip", "daemons"]);
    assert_eq!(verdicts(&run), ["test passes ... ok"], "{}", run.stdout);
}

#[test]
fn ignored_and_include_ignored() {
    let run = fixture(&[
        "--ignored",
        "--skip",
        "runs_until_killed",
        "--skip",
        "stops_itself",
    ]);
    assert_eq!(
        verdicts(&run),
        ["test ignored_by_default ... ok"],
        "{}",
        run.stdout
    );
    let run = fixture(&["--include-ignored", "ignored_by"]);
    assert_eq!(
        verdicts(&run),
        ["test ignored_by_default ... ok"],
        "{}",
        run.stdout
    );
}

#[test]
fn one_thread_runs_everything_in_order() {
    let run = fixture(&["--test-threads=1", "nested"]);
    assert_eq!(
        verdicts(&run),
        ["test nested::inner ... ok"],
        "{}",
        run.stdout
    );
}

#[test]
fn nocapture_shows_output_live_and_nothing_twice() {
    let run = fixture(&["--nocapture", "--exact", "fails_an_assertion"]);
    assert_eq!(run.code(), Some(101));
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("printed on stdout by the body"), "{all}");
    assert!(all.contains("printed on stderr by the body"), "{all}");
    assert!(all.contains("printed by a program in node a"), "{all}");
    assert_eq!(
        all.matches("printed on stdout by the body").count(),
        1,
        "{all}"
    );
}

/// cargo-nextest runs each test as `<bin> --exact <name> --nocapture`.
#[test]
fn the_nextest_protocol_runs_one_test() {
    let run = fixture(&["--exact", "nested::inner", "--nocapture"]);
    assert_eq!(run.code(), Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 passed"), "{}", run.stdout);
}

/// A host that refuses user namespaces gets one message naming the step, the errno, the
/// setting and the fix. Here the refusal is made real: `user.max_user_namespaces` is set to 0
/// inside an outer user namespace, which only that namespace sees.
#[test]
fn a_refused_user_namespace_is_explained() {
    let output = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--",
            "sh",
            "-c",
            "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" --exact passes",
            &fixture_path(),
        ])
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(101), "{stdout}");
    for expected in [
        "`unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID)` failed with ENOSPC",
        "user.max_user_namespaces = 0",
        "fix: sudo sysctl -w user.max_user_namespaces=15000",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

/// Past its `slow-timeout` (with `terminate-after`), cargo-nextest kills the test binary, which
/// is the harness here. Nothing the test started may survive it, even a SIGKILL that leaves the
/// harness no chance to clean up.
#[test]
fn nothing_survives_a_killed_harness() {
    let marker = unique_marker();
    let mut harness = Command::new(fixture_path())
        .args(["--ignored", "--exact", "runs_until_killed", "--nocapture"])
        .env("FIXTURE_MARKER", &marker)
        .env_remove("NETNS_TEST_TIMEOUT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the fixture binary");
    // Every node runs a daemon: two of them.
    let started = wait_until(|| processes_with(&marker).len() == 2);
    assert!(
        started,
        "the daemons did not start: {:?}",
        processes_with(&marker)
    );
    harness.kill().expect("kill the harness");
    harness.wait().expect("reap the harness");
    let gone = wait_until(|| processes_with(&marker).is_empty());
    assert!(gone, "processes survived: {:?}", processes_with(&marker));
}

/// Whether `condition` became true within 10 s (checked every 10 ms).
fn wait_until(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    condition()
}
