//! A test `tests/dns.rs` runs with `NETNS_TEST_DNS=off`: what a node sees without the responder.

use std::net::UdpSocket;

use netns_test::{Net, netns_test};
use netns_test_suites::support::lookups::{NO_SERVER, node_name_resolves, unknown_name_fails_with};

#[netns_test(topology = "client -- gateway -- server")]
fn without_the_responder(net: &Net) {
    let client = net.node("client");
    // Still the test's own resolver configuration, not the host's.
    let resolv = std::fs::read_to_string("/etc/resolv.conf").expect("/etc/resolv.conf");
    assert!(resolv.contains("nameserver ::1\n"), "{resolv}");
    // Nothing answers on `::1`: the lookup fails at once, with EAI_AGAIN's text.
    unknown_name_fails_with(net, "client", NO_SERVER);
    // `/etc/hosts` still names the nodes.
    node_name_resolves(net, "client", "server");
    // `dig` gets no server at all.
    let output = client
        .command("dig")
        .args(["+time=1", "+tries=1", "server"])
        .output()
        .expect("dig runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    // All of port 53 is free, IPv6 too: a user's own DNS server gets the node's queries.
    let own = client.run(|| UdpSocket::bind("[::]:53").expect("bind [::]:53"));
    drop(own);
}

netns_test::main!();
