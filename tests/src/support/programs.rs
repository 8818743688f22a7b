//! Running programs inside nodes, for the suites that check the kernel's view with `ip` and
//! `ping`. Where a helper takes a family, it is `ip`'s and `ping`'s own flag: `-4` or `-6`.

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

/// Whether one ping from `node` to `target` is answered within a second.
pub fn pings(node: &Node, target: &str) -> bool {
    answered(node, &["-c", "1", "-W", "1", target])
}

/// Whether one IPv6 ping from `node` to `target` is answered within a second.
pub fn pings6(node: &Node, target: &str) -> bool {
    answered(node, &["-6", "-c", "1", "-W", "1", target])
}

fn answered(node: &Node, args: &[&str]) -> bool {
    let output = node.command("ping").args(args).output();
    output
        .unwrap_or_else(|e| panic!("cannot run ping in {}: {e}", node.name()))
        .status
        .success()
}

/// Fails the test, with everything the program printed, if `output` is not a success.
pub fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "`{what}` failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One ping (`-4` or `-6`), which must be answered; returns the reply's TTL / hop limit.
pub fn ping(node: &Node, family: &str, target: &str) -> u32 {
    let output = run_ok(node, "ping", &[family, "-c", "1", "-W", "2", target]);
    output
        .split_whitespace()
        .find_map(|word| word.strip_prefix("ttl="))
        .and_then(|ttl| ttl.parse().ok())
        .unwrap_or_else(|| panic!("no ttl in ping output:\n{output}"))
}

/// The global addresses of an interface, as the kernel reports them (`ip -4|-6 -o addr`).
pub fn kernel_addrs(node: &Node, family: &str, interface: &str) -> Vec<String> {
    let args = [
        family, "-o", "addr", "show", "dev", interface, "scope", "global",
    ];
    run_ok(node, "ip", &args)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == "inet" || *w == "inet6")?;
            words.next().map(str::to_string)
        })
        .collect()
}

/// The default route of one family (`-4` or `-6`), empty when there is none.
pub fn default_route(node: &Node, family: &str) -> String {
    run_ok(node, "ip", &[family, "route", "show", "default"])
        .trim()
        .to_string()
}
