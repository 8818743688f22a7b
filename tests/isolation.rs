//! A test starts from clean state, however the harness starts it: forked without `exec` when it
//! runs alone (as under cargo-nextest), or re-executed (many tests, or `__NETNS_TEST_REEXEC=1`).
//! The `isolation_fixture` tests look at their own process: descriptors, threads, statics.

use std::process::Command;

const FIXTURE: &str = env!("CARGO_BIN_EXE_isolation_fixture");

/// Runs the fixture with `args`; the old re-exec path if `reexec`.
fn run(args: &[&str], reexec: bool) -> (bool, String) {
    let mut command = Command::new(FIXTURE);
    command.args(args).env_remove("NETNS_TEST_TIMEOUT");
    if reexec {
        command.env("__NETNS_TEST_REEXEC", "1");
    }
    let output = command.output().expect("run the isolation fixture");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

const ALONE: [&str; 4] = [
    "descriptors_are_its_own",
    "one_thread",
    "statics_first",
    "statics_second",
];

#[test]
fn a_test_run_alone_starts_clean() {
    for name in ALONE {
        let (passed, output) = run(&["--exact", name], false);
        assert!(passed, "{name} failed:\n{output}");
        assert!(output.contains(&format!("test {name} ... ok")), "{output}");
    }
}

/// The re-executed path gives the same threads and statics. (Its descriptors are not checked:
/// a re-executed test inherits whatever the caller left open without `O_CLOEXEC`.)
#[test]
fn a_re_executed_test_starts_clean_too() {
    for name in &ALONE[1..] {
        let (passed, output) = run(&["--exact", name], true);
        assert!(passed, "{name} failed:\n{output}");
    }
}

#[test]
fn a_test_run_alone_under_nocapture_prints_as_before() {
    let (passed, output) = run(
        &["--exact", "descriptors_are_its_own", "--nocapture"],
        false,
    );
    assert!(passed, "{output}");
    assert!(
        output.contains("open descriptors: [(0, \"/dev/null\")"),
        "{output}"
    );
}

#[test]
fn many_tests_each_find_the_statics_untouched() {
    for threads in ["1", "2"] {
        let (passed, output) = run(&["statics_", "--test-threads", threads], false);
        assert!(passed, "{output}");
        assert!(output.contains("2 passed"), "{output}");
    }
}
