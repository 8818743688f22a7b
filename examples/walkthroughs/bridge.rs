//! Walkthrough 2: three network namespaces on one Linux bridge.
//!
//! By hand: a bridge, three veth pairs with one end enslaved to the bridge and the other in a
//! namespace, three addresses, eight `up`s. Here a `switch` is declared and every node linked to
//! it shares one segment, numbered in order: 10.0.1.1, .2, .3.

use netns_test::{Net, netns_test};

#[netns_test(topology = "switch br0; {net0 net1 net2} -- br0")]
fn every_pair_of_nodes_pings(net: &Net) {
    for node in net.nodes() {
        println!("{} has {}", node.name(), node.ip());
    }
    for from in net.nodes() {
        for to in net.nodes().iter().filter(|to| to.name() != from.name()) {
            let ping = from
                .command("ping")
                .args(["-c", "1", "-W", "2", to.name()])
                .output();
            let ok = ping.map(|p| p.status.success()).unwrap_or(false);
            println!(
                "{} -> {}: {}",
                from.name(),
                to.name(),
                if ok { "reply" } else { "no reply" }
            );
            assert!(ok, "{} cannot reach {}", from.name(), to.name());
        }
    }
}

netns_test::main!();
