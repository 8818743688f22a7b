//! What failed tests leave behind, seen from outside: the artifact folder of the
//! `artifacts_fixture` binary and the state of its nodes. The packet capture itself is checked in
//! `capture.rs`, a kept network (`NETNS_TEST_KEEP`) in `keep.rs`.

use std::fs;

use netns_test_suites::support::artifacts_fixture::{interfaces_carrying, names_in, read, unique};

netns_test_suites::artifacts_fixture!();

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
