//! Saying what the automatic choices would get wrong: roles and addresses.
//!
//! A node with two links is a router and one with a single link a host, unless `router NAME`
//! or `host NAME` says otherwise. `name@address` fixes the address of that end of that link
//! (IPv4, IPv6 or both: `db@10.0.50.5@fd00::5`); the other ends are numbered around it.

use netns_test::{Net, Node, netns_test};

fn ip_addr(node: &Node) -> String {
    let output = node
        .command("ip")
        .args(["-br", "addr", "show", "scope", "global"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn forwarding(node: &Node) -> String {
    node.run(|| std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap())
        .trim()
        .to_string()
}

#[netns_test(topology = "
    router vpn          # one link, but it must forward
    host backup         # two links, but it must not
    office -- vpn
    db -- backup -- archive
")]
fn declared_roles(net: &Net) {
    for name in ["vpn", "backup", "office"] {
        let node = net.node(name);
        println!(
            "{name:7} forwarding={}  {}",
            forwarding(node),
            ip_addr(node).trim()
        );
    }
    assert_eq!(forwarding(net.node("vpn")), "1");
    assert_eq!(forwarding(net.node("backup")), "0");
}

#[netns_test(topology = "
    client@10.0.50.7@fd00:0:0:50::7 -- gateway
    gateway -- server@192.168.8.20
")]
fn explicit_addresses(net: &Net) {
    for node in net.nodes() {
        for line in ip_addr(node).lines() {
            println!("{:8} {line}", node.name());
        }
    }
    assert_eq!(net.node("client").ip().to_string(), "10.0.50.7");
    assert_eq!(net.node("client").ipv6().to_string(), "fd00:0:0:50::7");
    assert_eq!(net.node("server").ip().to_string(), "192.168.8.20");
    let ping = net
        .node("client")
        .command("ping")
        .args(["-c", "1", "-W", "2", "192.168.8.20"])
        .status()
        .unwrap();
    assert!(ping.success());
}

netns_test::main!();
