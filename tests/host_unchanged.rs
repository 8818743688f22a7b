//! A test cannot change the host's network: run as real root, a suite whose tests set
//! forwarding and other sysctls, add links, addresses, routes and rules, and flush the nftables
//! ruleset (the `host_unchanged_fixture` binary) leaves the host's interfaces, addresses, routes, rules,
//! `net.*` sysctls and nftables ruleset byte for byte as they were.
//!
//! Only real root could change them in the first place, so as any other user this suite says
//! loudly that it did not run and why.

use std::process::Command;

/// What the host's network looks like: the output of each command, in order.
fn host_network() -> Vec<(String, String)> {
    let commands: [&[&str]; 8] = [
        &["ip", "-d", "link", "show"],
        &["ip", "addr", "show"],
        &["ip", "-4", "route", "show", "table", "all"],
        &["ip", "-6", "route", "show", "table", "all"],
        &["ip", "-4", "rule", "show"],
        &["ip", "-6", "rule", "show"],
        &["sysctl", "-a"],
        &["nft", "list", "ruleset"],
    ];
    commands
        .iter()
        .map(|command| {
            let output = Command::new(command[0])
                .args(&command[1..])
                .output()
                .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
            assert!(output.status.success(), "{command:?} failed");
            let text = String::from_utf8_lossy(&output.stdout);
            let text = if command[0] == "sysctl" {
                text.lines()
                    .filter(|l| l.starts_with("net."))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                without_countdowns(&text)
            };
            (command.join(" "), text)
        })
        .collect()
}

/// The text with the values that count down by themselves blanked: address lifetimes and route
/// expiry times (only dynamic addresses and routes have them).
fn without_countdowns(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut words = Vec::new();
            let mut blank_next = false;
            for word in line.split(' ') {
                words.push(if blank_next { "_" } else { word });
                blank_next = matches!(word, "valid_lft" | "preferred_lft" | "expires");
            }
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn meddler() -> String {
    netns_test_suites::fixture_binary!("host_unchanged_fixture")
}

/// Runs the `host_unchanged_fixture` binary through `sh -c script` (with the binary as `$1`), and fails unless
/// its tests all succeeded inside their sandboxes and the host's network reads as before.
fn assert_host_unchanged_by(script: &str) {
    if !nix::unistd::Uid::effective().is_root() {
        println!(
            "SKIPPED: only real root could change the host's network, and this runs as uid {}: \
             the root pass of `cargo xtask test` runs it",
            nix::unistd::Uid::effective()
        );
        return;
    }
    let before = host_network();
    let scratch = std::env::temp_dir().join(format!("netns-test-meddler-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("create a scratch directory");
    let output = Command::new("sh")
        .args(["-c", script, "sh", &meddler()])
        .arg(&scratch)
        .output()
        .expect("run the host_unchanged_fixture binary");
    let _ = std::fs::remove_dir(&scratch);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("4 passed"),
        "the meddling tests must succeed inside their sandboxes:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let after = host_network();
    for ((command, before), (_, after)) in before.iter().zip(&after) {
        if before != after {
            let changed: Vec<String> = diff(before, after);
            panic!("`{command}` changed:\n{}", changed.join("\n"));
        }
    }
    println!(
        "compared {} lines of host network state before and after",
        before.iter().map(|(_, t)| t.lines().count()).sum::<usize>()
    );
}

#[test]
fn a_suite_run_as_root_leaves_the_host_network_byte_for_byte_unchanged() {
    assert_host_unchanged_by("exec \"$1\" --test-threads=4");
}

/// The same as real root without a user namespace: in a chroot (a bind mount of `/` in a private
/// mount namespace) the kernel refuses one, and the sandbox is network, mount and PID namespaces
/// alone, with the test's processes as root of the host's user namespace.
#[test]
fn root_without_a_user_namespace_leaves_the_host_network_unchanged_too() {
    assert_host_unchanged_by(
        "exec unshare --mount --propagation private -- sh -c '
             mount --rbind / \"$2\" || exit 90
             if chroot \"$2\" unshare --user true; then echo user namespace allowed; exit 91; fi
             exec chroot \"$2\" \"$1\" --test-threads=4' sh \"$1\" \"$2\"",
    );
}

/// The lines only in `before` (`-`) and only in `after` (`+`).
fn diff(before: &str, after: &str) -> Vec<String> {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let mut lines: Vec<String> = old
        .iter()
        .filter(|l| !new.contains(l))
        .map(|l| format!("- {l}"))
        .collect();
    lines.extend(
        new.iter()
            .filter(|l| !old.contains(l))
            .map(|l| format!("+ {l}")),
    );
    if lines.is_empty() {
        lines.push("(the same lines in another order)".into());
    }
    lines
}
