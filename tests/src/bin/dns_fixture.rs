//! A test `tests/dns.rs` runs with `NETNS_TEST_DNS=off`: what a node sees without the responder.

use std::net::{ToSocketAddrs, UdpSocket};

use netns_test::{Net, netns_test};

#[netns_test(topology = "client -- gateway -- server")]
fn without_the_responder(net: &Net) {
    let client = net.node("client");
    // Still the test's own resolver configuration, not the host's.
    let resolv = std::fs::read_to_string("/etc/resolv.conf").expect("/etc/resolv.conf");
    assert!(resolv.contains("nameserver ::1\n"), "{resolv}");
    // Nothing answers on `::1`: the lookup fails at once, with EAI_AGAIN's text.
    let error = client
        .run(|| ("no-such-host.example", 80).to_socket_addrs())
        .expect_err("an unknown name");
    assert_eq!(
        error.to_string(),
        "failed to lookup address information: Temporary failure in name resolution"
    );
    // `/etc/hosts` still names the nodes.
    let server = client
        .run(|| ("server", 80).to_socket_addrs())
        .expect("a node name");
    assert!(
        server
            .map(|a| a.ip())
            .any(|ip| ip == net.node("server").ip())
    );
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
