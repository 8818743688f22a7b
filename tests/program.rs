//! `netns_test::run` from a plain program: the `program` binary is run as a user would run it,
//! and its output and what it leaves on the host are checked.

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;

/// The program: where cargo built it, or where cargo-nextest unpacked it from an archive.
fn program_path() -> String {
    netns_test_suites::fixture_binary!("program_fixture")
}

/// The host's interfaces, as this (unsandboxed) test process sees them.
fn host_interfaces() -> BTreeSet<String> {
    fs::read_dir("/sys/class/net")
        .expect("read /sys/class/net")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_program_runs_closures_in_fresh_networks_and_leaves_nothing() {
    let before = host_interfaces();
    let output = Command::new(program_path())
        .output()
        .expect("run the program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    let expected = [
        "printed inside the network\n",
        "round trip: Ok((\"10.0.1.1\", \"hello\"))\n",
        "ping from host: Ok(Ok(true))\n",
        "panic: the closure panicked: on purpose\n",
        "bad topology: line 1, column 1: `a -- a` links `a` to itself; link it to another node\n",
        "threaded: netns_test::run needs a process with one thread, and this one has 2: call it \
         from `main` before any thread starts (in a test, use `#[netns_test]` instead)\n",
    ];
    assert_eq!(stdout, expected.concat(), "stderr:\n{stderr}");
    // The panic's own message went to stderr, as any panic's does.
    assert!(stderr.contains("on purpose"), "{stderr}");
    assert_eq!(host_interfaces(), before, "the host's interfaces changed");
}

#[test]
fn a_refused_user_namespace_is_explained_to_the_program() {
    // In a user namespace whose limit of nested user namespaces is 0, the sandbox is refused.
    let output = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--",
            "sh",
            "-c",
            "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" --once",
            &program_path(),
        ])
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    for expected in [
        "once: this host refuses to create the test's user namespace: \
         `unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID)` failed with ENOSPC",
        "user.max_user_namespaces = 0",
        "fix: sudo sysctl -w user.max_user_namespaces=15000",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // Without the refusal, the same program gets its answer.
    let output = Command::new(program_path()).arg("--once").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "once: ok: \"10.0.1.2\"\n"
    );
}
