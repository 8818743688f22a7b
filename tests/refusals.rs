//! Hosts that refuse user namespaces, made for real: what the harness reports, how
//! `NETNS_TEST_UNSUPPORTED=skip` turns the refusal into a skip, and how real root does without a
//! user namespace.
//!
//! - `user.max_user_namespaces = 0`, set inside an outer user namespace (only that namespace sees
//!   it), refuses the unshare with ENOSPC. The process there is uid 0 of that outer namespace, not
//!   real root, so it gets the explanation, not the fallback.
//! - A chroot makes the kernel refuse `CLONE_NEWUSER` with EPERM to anyone, real root included
//!   (the chroot is a bind mount of `/`, in a private mount namespace, so the host sees nothing of
//!   it). Real root there runs its tests without a user namespace.

use std::process::{Command, Output};

fn fixture_path() -> String {
    netns_test_suites::fixture_binary!("harness_fixture")
}

fn text(output: &Output) -> String {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    all.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the fixture with `args` where `user.max_user_namespaces` is 0, with `env` set.
fn without_user_namespaces(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new("unshare");
    command.args([
        "--user",
        "--map-root-user",
        "--",
        "sh",
        "-c",
        "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" \"$@\"",
        &fixture_path(),
    ]);
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run unshare")
}

#[test]
fn skip_mode_reports_the_refusal_as_ignored_with_the_reason() {
    let output = without_user_namespaces(
        &["--exact", "passes"],
        &[("NETNS_TEST_UNSUPPORTED", "skip")],
    );
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains(
            "test passes ... ignored (cannot run here: this host refuses to create the test's \
             user namespace: `unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | \
             CLONE_NEWPID)` failed with ENOSPC"
        ),
        "{all}"
    );
    assert!(
        all.contains("fix: sudo sysctl -w user.max_user_namespaces=15000"),
        "{all}"
    );
    assert!(all.contains("0 passed; 0 failed; 1 ignored"), "{all}");
}

#[test]
fn by_default_a_refusal_fails_and_names_the_skip_switch() {
    let output = without_user_namespaces(&["--exact", "passes"], &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(101), "{all}");
    assert!(all.contains("test passes ... FAILED"), "{all}");
    assert!(all.contains("set NETNS_TEST_UNSUPPORTED=skip"), "{all}");
}

#[test]
fn an_unknown_choice_fails_and_says_what_it_takes() {
    let output = without_user_namespaces(
        &["--exact", "passes"],
        &[("NETNS_TEST_UNSUPPORTED", "maybe")],
    );
    let all = text(&output);
    assert_eq!(output.status.code(), Some(101), "{all}");
    assert!(
        all.contains("is `maybe`; it takes `skip` or `fail`"),
        "{all}"
    );
}

/// In a chroot the kernel refuses user namespaces even to real root; the tests still run, and
/// build their networks, in network, mount and PID namespaces alone.
#[test]
fn real_root_does_without_a_refused_user_namespace() {
    if !nix::unistd::Uid::current().is_root() {
        println!(
            "SKIPPED: the fallback is for real root, and this runs as uid {}: the root pass of \
             `cargo xtask test` runs it",
            nix::unistd::Uid::current()
        );
        return;
    }
    let root = std::env::temp_dir().join(format!("netns-test-chroot-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("create the chroot's mount point");
    let output = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            "mount --rbind / \"$0\" || exit 90
             if chroot \"$0\" unshare --user true; then echo 'user namespace allowed'; exit 91; fi
             exec chroot \"$0\" \"$1\" --test-threads=2 passes",
        ])
        .arg(&root)
        .arg(fixture_path())
        .output()
        .expect("run unshare");
    let _ = std::fs::remove_dir(&root);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains("unshare failed: Operation not permitted"),
        "{all}"
    );
    for verdict in ["test passes ... ok", "test passes_with_daemons ... ok"] {
        assert!(all.contains(verdict), "missing {verdict:?} in:\n{all}");
    }
}
