//! A test binary whose tests try hard to change the network they run in: sysctls, routes,
//! links, addresses, the nftables ruleset. Each checks that its change took effect, so it would
//! have changed the host had it run there. `tests/host_unchanged.rs` runs it as real root and
//! checks that the host did not change at all.

use std::process::Command;

use netns_test::{Net, Node, netns_test};

/// Runs `ip`/`nft`/... in `node` (or, with `None`, in the test's own `host` namespace) and fails
/// if it fails.
fn must(node: Option<&Node>, program: &str, args: &[&str]) -> String {
    let mut command = match node {
        Some(node) => node.command(program),
        None => Command::new(program),
    };
    let output = command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn write_sysctl(path: &str, value: &str) {
    std::fs::write(path, value).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    let read = std::fs::read_to_string(path).expect("read back");
    assert_eq!(read.trim(), value, "{path}");
}

#[netns_test(topology = "a -- b")]
fn sets_sysctls() {
    write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    write_sysctl("/proc/sys/net/ipv4/conf/all/forwarding", "1");
    write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
    write_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "2");
    write_sysctl("/proc/sys/net/core/somaxconn", "17");
    write_sysctl("/proc/sys/net/ipv4/ping_group_range", "0\t0");
}

#[netns_test(topology = "a -- b")]
fn flushes_and_fills_the_nftables_ruleset(net: &Net) {
    for node in [None, Some(net.node("a"))] {
        must(node, "nft", &["flush", "ruleset"]);
        must(node, "nft", &["add", "table", "inet", "meddler"]);
        must(
            node,
            "nft",
            &["add chain inet meddler input { type filter hook input priority 0; policy drop; }"],
        );
        let ruleset = must(node, "nft", &["list", "ruleset"]);
        assert!(ruleset.contains("policy drop"), "{ruleset}");
    }
}

#[netns_test(topology = "a -- b")]
fn adds_links_addresses_and_routes(net: &Net) {
    for node in [None, Some(net.node("a"))] {
        must(
            node,
            "ip",
            &[
                "link", "add", "meddle0", "type", "veth", "peer", "name", "meddle1",
            ],
        );
        must(node, "ip", &["link", "add", "meddle-br", "type", "bridge"]);
        must(
            node,
            "ip",
            &["link", "set", "meddle0", "master", "meddle-br", "up"],
        );
        must(node, "ip", &["link", "set", "meddle-br", "up"]);
        must(
            node,
            "ip",
            &["addr", "add", "192.0.2.99/24", "dev", "meddle-br"],
        );
        must(
            node,
            "ip",
            &["addr", "add", "fd00::99/64", "dev", "meddle-br", "nodad"],
        );
        must(node, "ip", &["route", "add", "blackhole", "0.0.0.0/1"]);
        must(
            node,
            "ip",
            &[
                "route",
                "add",
                "blackhole",
                "198.51.100.0/24",
                "table",
                "100",
            ],
        );
        must(
            node,
            "ip",
            &["-6", "route", "add", "blackhole", "2001:db8::/32"],
        );
        must(node, "ip", &["rule", "add", "from", "all", "lookup", "100"]);
        must(node, "ip", &["link", "set", "lo", "down"]);
        let links = must(node, "ip", &["-o", "link"]);
        assert!(links.contains("meddle-br"), "{links}");
    }
}

#[netns_test(topology = "a -- b")]
fn renames_and_removes_its_links(net: &Net) {
    let a = net.node("a");
    let name = &a.interfaces()[0].name().to_string();
    must(Some(a), "ip", &["link", "set", name, "down"]);
    must(Some(a), "ip", &["link", "set", name, "name", "eth0"]);
    must(Some(a), "ip", &["link", "del", "eth0"]);
}

netns_test::main!();
