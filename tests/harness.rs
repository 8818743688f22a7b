//! The harness, seen from outside: the `harness_fixture` binary run with libtest's flags, what it reports
//! for every way a test can end. What runs leave on the host is audited in `leaks.rs`.

use std::fs;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use netns_test_suites::support::libtest_output;

use libtest_output::failure_of;

/// The fixture binary: where cargo built it, or where cargo-nextest unpacked it from an archive.
fn fixture_path() -> String {
    std::env::var("NEXTEST_BIN_EXE_harness_fixture")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_harness_fixture").to_string())
}

/// A `sleep` argument no other run uses, so that a survivor is recognisable.
fn unique_marker() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("31337.{}{:04}", std::process::id(), n)
}

struct Run {
    output: Output,
    stdout: String,
    stderr: String,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
}

fn fixture_with(args: &[&str], marker: &str) -> Run {
    fixture_with_env(args, marker, &[])
}

fn fixture_with_env(args: &[&str], marker: &str, env: &[(&str, &str)]) -> Run {
    let output = Command::new(fixture_path())
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

fn fixture(args: &[&str]) -> Run {
    fixture_with(args, &unique_marker())
}

/// The `test NAME ... RESULT` lines of a run, sorted, with libtest-mimic's padding removed.
fn verdicts(run: &Run) -> Vec<String> {
    let mut lines: Vec<String> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("test ") && l.contains(" ... "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}

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

/// Processes on the host whose command line carries `marker`.
fn processes_with(marker: &str) -> Vec<String> {
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
