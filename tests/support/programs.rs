//! Running programs inside nodes, for the suites that check the kernel's view with `ip` and
//! `ping`.

use std::process::Output;

use netns_test::Node;

/// Runs a program in a node and returns its output, failing the test (with everything the
/// program printed) if it did not succeed.
pub fn run_ok(node: &Node, program: &str, args: &[&str]) -> String {
    let output = node
        .command(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} in {}: {e}", node.name()));
    assert_success(&format!("{program} {}", args.join(" ")), &output);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "`{what}` failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
