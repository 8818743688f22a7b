//! Walkthrough 1: two network namespaces joined by a veth pair.
//!
//! By hand, as root, this is:
//!
//! ```sh
//! ip netns add net0
//! ip netns add net1
//! ip link add veth0 netns net0 type veth peer name veth1 netns net1
//! ip -n net0 addr add 10.0.1.1/24 dev veth0 && ip -n net0 link set veth0 up
//! ip -n net1 addr add 10.0.1.2/24 dev veth1 && ip -n net1 link set veth1 up
//! ip netns exec net0 ping -c 1 10.0.1.2
//! ip netns del net0; ip netns del net1   # and forget nothing, even when a step failed
//! ```
//!
//! With netns-test it is one line of topology, no root, and nothing to clean up.

use netns_test::{Net, netns_test};

#[netns_test(topology = "net0 -- net1")]
fn net0_and_net1_ping_each_other(net: &Net) {
    let (net0, net1) = (net.node("net0"), net.node("net1"));
    println!("net0 has {}, net1 has {}", net0.ip(), net1.ip());
    assert_eq!(net0.ip().to_string(), "10.0.1.1");
    assert_eq!(net1.ip().to_string(), "10.0.1.2");

    // Programs started with `node.command` run inside the node; node names resolve.
    let ping = net0
        .command("ping")
        .args(["-c", "1", "net1"])
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&ping.stdout));
    assert!(ping.status.success());

    let ping = net1
        .command("ping")
        .args(["-c", "1", "net0"])
        .output()
        .unwrap();
    assert!(ping.status.success());
}

netns_test::main!();
