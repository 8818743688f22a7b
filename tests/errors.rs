//! What a failing test shows of a `netns_test::Error`: libtest prints the `Debug` of an `Err`
//! a body returns, and `.unwrap()` prints it too, so that `Debug` is the message and then its
//! causes, never a struct. The `errors_fixture` binary's tests fail so, and their output is
//! checked here.

use std::process::Command;

/// The `errors_fixture` binary: where cargo built it, or where cargo-nextest unpacked it.
fn fixture_path() -> String {
    netns_test_suites::fixture_binary!("errors_fixture")
}

/// Runs one test of the fixture; returns whether it passed and everything it printed.
fn run(test: &str) -> (bool, String) {
    let output = Command::new(fixture_path())
        .args(["--exact", test])
        .output()
        .expect("run the errors fixture");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn a_returned_error_reads_as_its_message() {
    let (passed, text) = run("returns_an_error");
    assert!(!passed, "{text}");
    assert!(
        text.contains(
            "Error: invalid link setting: `2mbps` is ambiguous: `tc` reads `mbps` as bytes per \
             second; write `2mbit`"
        ),
        "{text}"
    );
    assert!(!text.contains("InvalidSetting"), "{text}");
}

#[test]
fn an_unwrapped_error_reads_as_its_message() {
    let (passed, text) = run("unwraps_an_error");
    assert!(!passed, "{text}");
    assert!(
        text.contains("called `Result::unwrap()` on an `Err` value: timed out after "),
        "{text}"
    );
    assert!(
        text.contains(
            "waiting for tcp port 9 listening in node `server`, which listens on nothing"
        ),
        "{text}"
    );
    assert!(!text.contains("WaitTimedOut"), "{text}");
}

/// Where the kernel has `sch_netem` the delay is set and the test passes; where it lacks it
/// (as on the project's machines), the error's cause, the kernel's errno, follows the message.
#[test]
fn an_error_shows_its_causes() {
    let (passed, text) = run("returns_an_error_with_a_cause");
    if passed {
        assert!(!text.contains("sch_netem"), "{text}");
        return;
    }
    let error = text
        .find("Error: this kernel lacks sch_netem, needed for `delay=50ms` on node `client`")
        .unwrap_or_else(|| panic!("no error message in:\n{text}"));
    let rest = &text[error..];
    assert!(rest.contains("\n\nCaused by:\n    "), "{rest}");
    assert!(rest.contains("(os error "), "{rest}");
    assert!(!text.contains("KernelLacks"), "{text}");
}
