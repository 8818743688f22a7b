//! `delay=` and `loss=` on each path `NETNS_TEST_IMPAIR` chooses, through the `netem_fixture`
//! binary's tests, whose output is checked:
//!
//! - `relay` and `auto` (the default): every setting works, on any kernel (auto takes netem
//!   where the kernel has it, the relay where not);
//! - `netem`: the settings work where the kernel has `sch_netem`, and fail loudly where it does
//!   not, naming the module, the setting and the link end.
//!
//! A link built without a delay or loss and given one at run time is the one case the paths
//! differ on: netem can add one to any link, the relay only to a link it carries from the start.

use std::process::Command;

/// The `netem_fixture` binary: where cargo built it, or where cargo-nextest unpacked it.
fn netem_path() -> String {
    netns_test_suites::fixture_binary!("netem_fixture")
}

/// Runs one test of the `netem_fixture` binary with `NETNS_TEST_IMPAIR=impair`; returns whether
/// it passed and everything it printed.
fn run(test: &str, impair: &str) -> (bool, String) {
    let output = Command::new(netem_path())
        .args(["--exact", test, "--nocapture"])
        .env("NETNS_TEST_IMPAIR", impair)
        .output()
        .expect("run the netem binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Runs `test` with `impair` and checks that it passed, its body having run.
fn passes(test: &str, impair: &str) {
    let (passed, text) = run(test, impair);
    assert!(
        passed,
        "{test} failed with NETNS_TEST_IMPAIR={impair}:\n{text}"
    );
    assert!(text.contains("the body runs"), "{text}");
}

/// Runs `test` with netem forced and checks one of the two outcomes: the kernel has netem and
/// the test passes (its body checks that the setting works), or the kernel lacks it and the test
/// fails before its body, with the message naming the module, the setting and the node.
fn check(test: &str, setting: &str) {
    let (passed, text) = run(test, "netem");
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

/// As [`check`], for a delay given at run time to a link built without one, on `impair`: where
/// the path cannot do it, the body runs, the call fails saying why (`expected`), and the link
/// still carries traffic.
fn check_at_run_time(impair: &str, expected: &[&str]) {
    let (passed, text) = run("delay_at_run_time_on_a_plain_link", impair);
    assert!(text.contains("the body runs"), "{text}");
    if passed {
        assert!(!text.contains("lacks"), "{text}");
        return;
    }
    for part in expected {
        assert!(text.contains(part), "expected {part:?} in:\n{text}");
    }
    assert!(text.contains("the link still carries traffic"), "{text}");
}

#[test]
fn delay_and_loss_work_on_the_relay() {
    for test in ["delay", "loss", "delay_at_run_time", "loss_at_run_time"] {
        passes(test, "relay");
    }
}

#[test]
fn delay_and_loss_work_by_default() {
    for test in ["delay", "loss", "delay_at_run_time", "loss_at_run_time"] {
        passes(test, "auto");
    }
}

#[test]
fn delay_works_or_fails_naming_sch_netem() {
    check("delay", "delay=50ms");
}

#[test]
fn loss_works_or_fails_naming_sch_netem() {
    check("loss", "loss=100%");
}

#[test]
fn delay_at_run_time_works_or_fails_naming_sch_netem() {
    check("delay_at_run_time", "delay=0ms");
}

#[test]
fn a_plain_link_takes_a_delay_at_run_time_from_netem_only() {
    // Forced netem: works, or the kernel lacks it.
    check_at_run_time(
        "netem",
        &["this kernel lacks sch_netem, needed for `delay=50ms` on "],
    );
    // The relay refuses, and says what to write.
    let (passed, text) = run("delay_at_run_time_on_a_plain_link", "relay");
    assert!(!passed, "{text}");
    assert!(text.contains("the link still carries traffic"), "{text}");
    assert!(
        text.contains(
            "NETNS_TEST_IMPAIR=relay asks for the relay, but it carries only links built with a \
             delay or a loss, and link `a -- b` was built without; give it `delay=0ms`"
        ),
        "{text}"
    );
    // Auto: netem's, or the kernel lacks it and the message says what to write.
    check_at_run_time(
        "auto",
        &[
            "this kernel lacks sch_netem, needed for `delay=50ms` on ",
            "the relay stands in for it, but it carries only links built with a delay or a loss",
            "give it `delay=0ms` in the topology",
        ],
    );
}
