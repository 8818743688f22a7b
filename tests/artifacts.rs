//! What failed tests leave behind, seen from outside: the artifact folder of the
//! `artifacts_fixture` binary and the state of its nodes. The packet capture itself is checked in
//! `capture.rs`, a kept network (`NETNS_TEST_KEEP`) in `keep.rs`.

use std::fs;

use netns_test_suites::support::artifacts_fixture::{
    Run, interfaces_carrying, names_in, read, unique,
};

netns_test_suites::artifacts_fixture!();

/// Two runs of one test at the same time (two terminals, an IDE beside `cargo test`): each
/// keeps a folder of its own, the second named `<test>.2` and saying why, and neither removes
/// the other's scratch directory.
#[test]
fn two_runs_of_one_test_at_once_keep_a_folder_each() {
    let base = Base::new();
    let gate = base.0.join("gate");
    let test = "fails_when_the_gate_opens";
    let binary_dir = base.test_dir(test).parent().unwrap().to_path_buf();
    let locks = [format!(".{test}.lock"), format!(".{test}.2.lock")];
    let runs = std::thread::scope(|scope| {
        let run = || {
            let gate = gate.to_str().unwrap();
            fixture(
                &["--exact", test],
                Some(&base),
                "m",
                &[("ARTIFACTS_GATE", gate)],
            )
        };
        let (first, second) = (scope.spawn(run), scope.spawn(run));
        let started = std::time::Instant::now();
        while !locks.iter().all(|lock| binary_dir.join(lock).exists()) {
            assert!(started.elapsed().as_secs() < 10, "both runs did not start");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        fs::write(&gate, "open").unwrap();
        [first.join().unwrap(), second.join().unwrap()]
    });
    let (plain, renamed) = (base.test_dir(test), base.test_dir(&format!("{test}.2")));
    for dir in [&plain, &renamed] {
        assert_eq!(
            names_in(dir),
            ["client.txt", "scratch", "server.txt"],
            "{}",
            dir.display()
        );
        assert_eq!(read(&dir.join("scratch/left")), "in the scratch directory");
        let said = format!("the state of every node: {}", dir.display());
        let says = |run: &&Run| run.stdout.lines().any(|line| line == said);
        assert_eq!(runs.iter().filter(says).count(), 1, "{said}");
    }
    let why = format!(
        "(that folder because another run of this test holds {})",
        plain.display()
    );
    assert_eq!(
        runs.iter().filter(|run| run.stdout.contains(&why)).count(),
        1,
        "{why}"
    );
}

#[test]
fn a_failure_leaves_the_state_of_every_node_and_the_capture() {
    let base = Base::new();
    let marker = unique("marker");
    let run = fixture(
        &["--exact", "fails_after_a_datagram"],
        Some(&base),
        &marker,
        &[],
    );
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = base.test_dir("fails_after_a_datagram");
    assert!(
        run.stdout.contains(&format!(
            "the state of every node and the packet capture: {}",
            dir.display()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(
        names_in(&dir),
        ["capture.pcapng", "client.txt", "server.txt"]
    );

    let client = read(&dir.join("client.txt"));
    for expected in [
        "node `client`",
        "eth0  UP       mtu 1500   10.0.1.1/24",
        "10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.1",
        "net.ipv4.ip_forward = 0",
        "nftables ruleset (nft list ruleset):\n  (empty)",
    ] {
        assert!(
            client.contains(expected),
            "missing {expected:?} in:\n{client}"
        );
    }
    // The datagram went through ARP: each side knows the other's MAC address.
    assert!(
        client.contains("10.0.1.2 dev eth0 lladdr "),
        "no neighbour in:\n{client}"
    );
    let server = read(&dir.join("server.txt"));
    assert!(
        server.contains("10.0.1.1 dev eth0 lladdr "),
        "no neighbour in:\n{server}"
    );

    let seen = interfaces_carrying(&dir.join("capture.pcapng"), &marker);
    // Once, as it left the client.
    assert_eq!(seen, ["client:eth0"], "frames with the marker");
}

#[test]
fn the_state_shows_forwarding_routes_rules_qdiscs_and_the_nftables_ruleset() {
    let base = Base::new();
    let run = fixture(&["--exact", "fails_with_a_firewall"], Some(&base), "x", &[]);
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = base.test_dir("fails_with_a_firewall");
    assert!(
        run.stdout
            .contains(&format!("the state of every node: {}", dir.display())),
        "{}",
        run.stdout
    );
    // No capture was asked for.
    assert_eq!(names_in(&dir), ["client.txt", "gateway.txt", "server.txt"]);
    let gateway = read(&dir.join("gateway.txt"));
    for expected in [
        "net.ipv4.ip_forward = 1",
        "10.0.1.254/24",
        "10.0.2.254/24",
        "table inet artifacts_check",
        "routes of the other tables:\n  10.9.0.0/16 via 10.0.2.1 dev eth1 table 100\n",
        "from 10.0.1.0/24 lookup 100",
        "qdisc tbf ",
    ] {
        assert!(
            gateway.contains(expected),
            "missing {expected:?} in:\n{gateway}"
        );
    }
    let client = read(&dir.join("client.txt"));
    assert!(
        client.contains("default via 10.0.1.254 dev eth0"),
        "{client}"
    );
}

#[test]
fn the_switches_have_a_file_of_their_own() {
    let base = Base::new();
    let run = fixture(&["--exact", "fails_on_a_switch"], Some(&base), "x", &[]);
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = base.test_dir("fails_on_a_switch");
    assert_eq!(names_in(&dir), ["_switches.txt", "a.txt", "b.txt"]);
    let switches = read(&dir.join("_switches.txt"));
    assert!(
        switches.contains("(switch `lan`)") && switches.contains("ports "),
        "{switches}"
    );
}

#[test]
fn a_nat_routers_file_lists_its_mappings_and_the_picture_marks_it() {
    let base = Base::new();
    let run = fixture(&["--exact", "fails_behind_a_nat"], Some(&base), "x", &[]);
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    // The picture above the report says which router is a NAT, and which side is out.
    assert!(
        run.stdout
            .contains("nat home: port-restricted, outside eth1 192.0.2.254/24, inside eth0"),
        "{}",
        run.stdout
    );
    let home = read(&base.test_dir("fails_behind_a_nat").join("home.txt"));
    assert!(
        home.contains("NAT (port-restricted, outside eth1 192.0.2.254): mappings now (conntrack):"),
        "{home}"
    );
    assert!(
        home.contains("udp 192.168.1.1:4000 -> 192.0.2.254:4000 -> 192.0.2.1:5555"),
        "{home}"
    );
}

#[test]
fn passing_tests_leave_nothing_not_even_stale_artifacts() {
    let base = Base::new();
    // What an earlier failure of `passes` left.
    let stale = base.test_dir("passes");
    fs::create_dir_all(&stale).unwrap();
    fs::write(stale.join("client.txt"), "stale").unwrap();
    let run = fixture(
        &["passes", "--skip", "always", "--test-threads=1"],
        Some(&base),
        &unique("marker"),
        &[],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("2 passed"), "{}", run.stdout);
    assert_eq!(names_in(&base.0), Vec::<String>::new(), "left behind");
}

#[test]
fn artifacts_go_under_the_target_directory_by_default() {
    let run = fixture(&["--exact", "fails_with_a_firewall"], None, "x", &[]);
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = target_dir()
        .join("netns-test")
        .join("artifacts_fixture")
        .join("fails_with_a_firewall");
    assert!(
        run.stdout
            .contains(&format!("the state of every node: {}", dir.display())),
        "{}",
        run.stdout
    );
    assert!(read(&dir.join("gateway.txt")).contains("table inet artifacts_check"));
    fs::remove_dir_all(&dir).unwrap();
    for parent in dir.ancestors().skip(1).take(2) {
        let _ = fs::remove_dir(parent);
    }
}

#[test]
fn node_files_list_listening_sockets_and_processes_and_the_report_shows_host() {
    let base = Base::new();
    let marker = unique("marker");
    let run = fixture(
        &["--exact", "fails_with_a_server_running"],
        Some(&base),
        &marker,
        &[],
    );
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = base.test_dir("fails_with_a_server_running");
    let server = read(&dir.join("server.txt"));
    for expected in [
        "listening sockets",
        "  tcp 0.0.0.0:7000\n",
        ": sleep 3600\n",
    ] {
        assert!(
            server.contains(expected),
            "missing {expected:?} in:\n{server}"
        );
    }
    assert!(!server.contains("sleep 3599"), "host's sleep in:\n{server}");
    let client = read(&dir.join("client.txt"));
    assert!(
        client
            .contains("listening sockets (tcp in LISTEN, udp bound and not connected):\n  (none)"),
        "{client}"
    );
    assert!(!client.contains("sleep"), "{client}");

    // The report starts with `host`: only `lo`, and the processes running there.
    let report = &run.stdout;
    let host = report
        .find("`host` (the test's own namespace")
        .unwrap_or_else(|| panic!("no host in the report:\n{report}"));
    let first_node = report.find("node `client`").expect("client in the report");
    assert!(host < first_node, "{report}");
    let section = &report[host..first_node];
    for expected in ["  lo ", "processes:", ": sleep 3599\n", "artifacts_fixture"] {
        assert!(
            section.contains(expected),
            "missing {expected:?} in the host section:\n{section}"
        );
    }
    assert!(!section.contains("sleep 3600"), "{section}");
}

#[test]
fn two_tests_at_once_have_a_tmpdir_each_and_a_pass_leaves_none() {
    let base = Base::new();
    let sync = target_dir().join("artifacts-suite").join(unique("sync"));
    fs::create_dir_all(&sync).unwrap();
    let run = fixture(
        &["scratch_", "--skip", "scratch_with", "--test-threads=2"],
        Some(&base),
        "x",
        &[("SCRATCH_SYNC", sync.to_str().unwrap())],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("2 passed"), "{}", run.stdout);
    assert_eq!(names_in(&base.0), Vec::<String>::new(), "left behind");
    fs::remove_dir_all(&sync).unwrap();
}

#[test]
fn a_passing_test_leaves_no_scratch_directory() {
    let base = Base::new();
    let run = fixture(
        &["--exact", "scratch_with_a_pass", "--nocapture"],
        Some(&base),
        "x",
        &[],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    let wrote = run
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("wrote "))
        .unwrap_or_else(|| panic!("no file written in:\n{}", run.stdout));
    // Inside the test the folder is reached by its short name; what it wrote was in the test's
    // folder, which the pass removed.
    assert_eq!(wrote, "/run/netns-test/tmp/left.txt");
    let file = base
        .test_dir("scratch_with_a_pass")
        .join("scratch/left.txt");
    assert!(!file.exists(), "{} is left", file.display());
    assert_eq!(names_in(&base.0), Vec::<String>::new(), "left behind");
}

#[test]
fn a_unix_socket_fits_in_the_scratch_directory_of_a_deep_project() {
    let base = Base::new();
    // As deep as a CI runner's checkout with a long test name: the scratch folder's own path
    // is longer than the 108 bytes a unix socket's name may have.
    let deep = base
        .0
        .join("home/runner/work/a-networking-crate/a-networking-crate/target/netns-test");
    fs::create_dir_all(&deep).unwrap();
    let run = fixture(
        &["--exact", "unix_socket_in_scratch", "--nocapture"],
        None,
        "x",
        &[("NETNS_TEST_ARTIFACTS", deep.to_str().unwrap())],
    );
    let socket = deep.join("artifacts_fixture/unix_socket_in_scratch/scratch/server.sock");
    assert!(
        socket.as_os_str().len() > 108,
        "{} is too short to check anything",
        socket.display()
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("echoed through /run/netns-test/tmp/server.sock"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_failing_test_keeps_its_scratch_directory_with_its_artifacts() {
    let base = Base::new();
    let run = fixture(
        &["--exact", "scratch_with_a_failure"],
        Some(&base),
        "x",
        &[],
    );
    assert_eq!(run.output.status.code(), Some(101), "{}", run.stdout);
    let dir = base.test_dir("scratch_with_a_failure");
    assert_eq!(names_in(&dir), ["client.txt", "scratch", "server.txt"]);
    assert_eq!(read(&dir.join("scratch/server.log")), "kept\n");
    assert!(
        run.stdout.contains(&format!(
            "the files the test left in its scratch directory (TMPDIR): {}",
            dir.join("scratch").display()
        )),
        "{}",
        run.stdout
    );
}

/// A copy of the fixture outside any target directory (as a CI job or an installed binary
/// has it), run as a user without privileges: as `nobody` when this suite runs as root, else as
/// the user who runs it. Its artifacts go to a place of that user's, in the documented order,
/// and the failure says where and why there.
#[test]
fn a_copied_binary_keeps_its_artifacts_in_a_place_of_the_users_own() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    use std::os::unix::process::CommandExt as _;
    use std::path::{Path, PathBuf};

    let as_root = nix::unistd::geteuid().is_root();
    let (uid, gid) = if as_root {
        (65534, 65534)
    } else {
        (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        )
    };
    // Readable by that user, and in no target directory.
    let top = std::env::temp_dir().join(unique("netns-test-copied"));
    fs::create_dir(&top).unwrap();
    fs::set_permissions(&top, fs::Permissions::from_mode(0o755)).unwrap();
    let copy = top.join("copied_fixture");
    fs::copy(fixture_path(), &copy).unwrap();
    let mine = |path: &Path| {
        fs::create_dir_all(path).unwrap();
        if as_root {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
        }
        path.to_path_buf()
    };
    let home = mine(&top.join("home"));
    let run = |env: &[(&str, &Path)]| {
        let mut command = std::process::Command::new(&copy);
        command
            .args(["--exact", "fails_on_a_switch"])
            .current_dir(&top)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().map(|&(k, v)| (k, v)));
        if as_root {
            // SAFETY: only async-signal-safe system calls between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    nix::unistd::setgroups(&[])?;
                    nix::unistd::setgid(gid.into())?;
                    nix::unistd::setuid(uid.into())?;
                    Ok(())
                });
            }
        }
        let output = command.output().expect("run the copied fixture");
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code(), text)
    };
    let why = format!(
        "(there because the test binary {} is in no cargo target directory; \
         NETNS_TEST_ARTIFACTS=<dir> chooses the place)",
        copy.display()
    );
    let check = |(code, text): (Option<i32>, String), base: PathBuf| {
        assert_eq!(code, Some(101), "{text}");
        let dir = base.join("copied_fixture/fails_on_a_switch");
        assert!(
            text.contains(&format!(
                "the state of every node: {}\n{why}",
                dir.display()
            )),
            "{text}"
        );
        assert_eq!(names_in(&dir), ["_switches.txt", "a.txt", "b.txt"]);
        assert_eq!(fs::metadata(dir.join("a.txt")).unwrap().uid(), uid);
        let mode = fs::metadata(&base).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", base.display());
    };

    // $XDG_STATE_HOME/netns-test first, then $HOME/.local/state/netns-test.
    let state = mine(&home.join("state"));
    let runs = run(&[("XDG_STATE_HOME", &state), ("HOME", &home)]);
    check(runs, state.join("netns-test"));
    let runs = run(&[("HOME", &home)]);
    check(runs, home.join(".local/state/netns-test"));

    // Without either: $TMPDIR/netns-test-<uid>, if it is the user's alone.
    let tmp = mine(&home.join("tmp"));
    check(
        run(&[("TMPDIR", &tmp)]),
        tmp.join(format!("netns-test-{uid}")),
    );
    let open = mine(&home.join("open"));
    let shared = mine(&open.join(format!("netns-test-{uid}")));
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
    let (code, text) = run(&[("TMPDIR", &open)]);
    assert_eq!(code, Some(101), "{text}");
    assert!(
        text.contains(&format!(
            "netns-test: no folder for this test's artifacts and scratch directory: the test \
             binary {} is in no cargo target directory, and neither XDG_STATE_HOME nor HOME is \
             set, and {} may be written by other users (mode 777): `chmod 700` it; set \
             NETNS_TEST_ARTIFACTS to a folder this user can write",
            copy.display(),
            shared.display()
        )),
        "{text}"
    );
    if as_root {
        // Only root can make a folder of another user's for this check.
        let theirs = home.join("theirs");
        fs::create_dir_all(theirs.join(format!("netns-test-{uid}"))).unwrap();
        let (code, text) = run(&[("TMPDIR", &theirs)]);
        assert_eq!(code, Some(101), "{text}");
        assert!(
            text.contains("belongs to another user, so this one does not use it: remove it"),
            "{text}"
        );
    }
    fs::remove_dir_all(&top).unwrap();
}
