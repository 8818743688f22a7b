//! `delay=` and `loss=` work where the kernel has `sch_netem`, and fail loudly where it does
//! not: the `netem_fixture` binary's tests run either way, and what they print is checked.

use std::process::Command;

/// The `netem_fixture` binary: where cargo built it, or where cargo-nextest unpacked it.
fn netem_path() -> String {
    std::env::var("NEXTEST_BIN_EXE_netem_fixture")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_netem_fixture").to_string())
}

/// Runs one test of the `netem_fixture` binary; returns whether it passed and everything it printed.
fn run(test: &str) -> (bool, String) {
    let output = Command::new(netem_path())
        .args(["--exact", test, "--nocapture"])
        .output()
        .expect("run the netem binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Runs `test` and checks one of the two outcomes: the kernel has netem and the test passes
/// (its body checks that the setting works), or the kernel lacks it and the test fails before
/// its body, with the message naming the module, the setting and the node.
fn check(test: &str, setting: &str) {
    let (passed, text) = run(test);
    let kernel_lacks_netem = text.contains("this kernel lacks sch_netem");
    if !kernel_lacks_netem {
        // The body ran and saw the setting work.
        assert!(passed, "{test} failed on a kernel with netem:\n{text}");
        assert!(text.contains("the body runs"), "{text}");
    } else {
        assert!(!passed, "{text}");
        let expected = format!(
            "netns-test: cannot build the network of this test: this kernel lacks sch_netem, \
             needed for `{setting}` on node `a` eth0"
        );
        assert!(
            text.contains(&expected),
            "expected {expected:?} in:\n{text}"
        );
        assert!(!text.contains("the body runs"), "{text}");
    }
}

/// As [`check`], for a setting made while the test runs: where the kernel lacks netem, the body
/// runs, the call fails naming the module, the setting and the link end, and the link still
/// carries traffic.
fn check_at_run_time(test: &str, setting: &str) {
    let (passed, text) = run(test);
    assert!(text.contains("the body runs"), "{text}");
    if !text.contains("this kernel lacks sch_netem") {
        assert!(passed, "{test} failed on a kernel with netem:\n{text}");
    } else {
        assert!(!passed, "{text}");
        let expected = format!("this kernel lacks sch_netem, needed for `{setting}` on ");
        assert!(
            text.contains(&expected),
            "expected {expected:?} in:\n{text}"
        );
        assert!(text.contains("the link still carries traffic"), "{text}");
    }
}

#[test]
fn delay_at_run_time_works_or_fails_naming_sch_netem() {
    check_at_run_time("delay_at_run_time", "delay=50ms");
}

#[test]
fn loss_at_run_time_works_or_fails_naming_sch_netem() {
    check_at_run_time("loss_at_run_time", "loss=100%");
}

#[test]
fn delay_works_or_fails_naming_sch_netem() {
    check("delay", "delay=50ms");
}

#[test]
fn loss_works_or_fails_naming_sch_netem() {
    check("loss", "loss=100%");
}
