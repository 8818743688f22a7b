//! The runners people use. cargo-nextest: a rootless `cargo nextest run` passes (the CI's
//! unprivileged pass runs the whole suite from a nextest archive built by root, which is also
//! the proof that an archive built on one machine runs on another), and `--partition hash:1/2`
//! with `hash:2/2` run each test exactly once, as CI fleets split a suite across machines. And
//! `cargo xtask doctor`, which tells what a machine offers before anything runs.
//!
//! These tests drive `cargo` itself, so they need the toolchain and cargo-nextest; without them
//! (the unprivileged pass here has no toolchain) they say loudly that they did not run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// `cargo` and `cargo-nextest`, if both can be run; otherwise why not.
fn cargo_nextest() -> Result<Command, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    match Command::new(&cargo).args(["nextest", "--version"]).output() {
        Ok(output) if output.status.success() => {
            let mut command = Command::new(cargo);
            command
                .arg("nextest")
                .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
            Ok(command)
        }
        Ok(output) => Err(format!(
            "`{cargo} nextest` is not installed (cargo install cargo-nextest): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run `{cargo}`: {e}")),
    }
}

/// The tests nextest ran, with how many times each, from its `PASS [time] (n/N) binary test`
/// lines.
fn ran(stderr: &str) -> BTreeMap<String, usize> {
    let mut ran = BTreeMap::new();
    for line in stderr.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("PASS [") {
            let name = rest.split_once(']').map_or("", |(_, name)| name.trim());
            // Newer versions print the test's place in the run before its name.
            let name = match name.strip_prefix('(') {
                Some(counted) => counted.split_once(')').map_or("", |(_, name)| name.trim()),
                None => name,
            };
            *ran.entry(name.to_string()).or_insert(0) += 1;
        }
    }
    ran
}

#[test]
fn partitions_run_each_test_exactly_once() {
    let mut nextest = match cargo_nextest() {
        Ok(command) => command,
        Err(why) => {
            println!("SKIPPED: {why}");
            return;
        }
    };
    let list = nextest
        .args(["list", "-p", "netns-test-suites", "-E", "binary(stress)"])
        .args(["--message-format", "oneline"])
        .output()
        .expect("cargo nextest list");
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let all: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(all.len(), 200, "{all:?}");

    let mut total = BTreeMap::new();
    for partition in ["hash:1/2", "hash:2/2"] {
        let run = cargo_nextest()
            .expect("cargo nextest")
            .args(["run", "-p", "netns-test-suites", "-E", "binary(stress)"])
            .args(["--partition", partition, "--no-fail-fast"])
            .args(["--status-level", "pass", "--final-status-level", "none"])
            .output()
            .expect("cargo nextest run");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{partition}:\n{stderr}");
        let part = ran(&stderr);
        assert!(
            !part.is_empty() && part.len() < all.len(),
            "{partition} ran {} tests:\n{stderr}",
            part.len()
        );
        for (name, times) in part {
            *total.entry(name).or_insert(0) += times;
        }
    }
    let expected: BTreeMap<String, usize> = all.into_iter().map(|name| (name, 1)).collect();
    assert_eq!(
        total, expected,
        "each test must run exactly once across the partitions"
    );
}

/// `cargo xtask doctor` tells what the machine offers: the kernel here has veth, bridges and tbf
/// (the suites use them), NAT routers, the tools the suites run, and user namespaces, or root
/// without one.
#[test]
fn doctor_reports_what_this_machine_offers() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = match Command::new(&cargo)
        .args(["xtask", "doctor"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            println!("SKIPPED: cannot run `{cargo}`: {e}");
            return;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("user namespaces ok")
            || l.starts_with("user namespaces refused, but this is root")),
        "{text}"
    );
    for expected in ["veth ok", "bridge ok", "tbf ok", "htb ok"] {
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected:?} in:\n{text}"
        );
    }
    // NAT: every feature its rules need, then a datagram through a NAT built as a test builds it.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ok nf_tables (CONFIG_NF_TABLES")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("checked: a datagram from behind a NAT arrived from its outside address")),
        "{text}"
    );
    for tool in ["ip", "nft", "ping", "unshare"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{tool} ok: /"))),
            "missing {tool} in:\n{text}"
        );
    }
}
