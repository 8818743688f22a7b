//! Faults: a link that fails and comes back, a router cut off, a link made narrow and slow.
//!
//! Links can be given settings in the topology (`[mtu=1280, rate=10mbit]`), and changed while
//! the test runs through `net.link(a, b)`: `down()`, `up()`, `set_mtu(n)`, `set_rate("1mbit")`,
//! and, where the kernel has netem, `set_delay("50ms")` and `set_loss("1%")`.
//! `net.node(x).disconnect()` takes every link of a node down at once.

use std::process::Output;

use netns_test::{Net, Node, netns_test};

fn ping(node: &Node, target: &str, extra: &[&str]) -> Output {
    let mut ping = node.command("ping");
    ping.args(["-c", "1", "-W", "1"]).args(extra).arg(target);
    ping.output().unwrap()
}

fn reaches(node: &Node, target: &str) -> bool {
    ping(node, target, &[]).status.success()
}

#[netns_test(topology = "client -- gateway -- server")]
fn the_link_to_the_gateway_fails_and_comes_back(net: &Net) -> netns_test::Result<()> {
    let client = net.node("client");
    println!(
        "before:         client reaches server: {}",
        reaches(client, "server")
    );
    let link = net.link("client", "gateway");
    link.down()?;
    println!(
        "link down:      client reaches server: {}",
        reaches(client, "server")
    );
    assert!(!reaches(client, "server"));
    // `up` returns once both ends carry traffic again, with the client's default route back.
    link.up()?;
    println!(
        "link up again:  client reaches server: {}",
        reaches(client, "server")
    );
    assert!(reaches(client, "server"));
    Ok(())
}

#[netns_test(topology = "{alice bob} -- r1 -- server")]
fn a_router_is_cut_off(net: &Net) -> netns_test::Result<()> {
    net.node("r1").disconnect()?;
    for node in ["alice", "bob"] {
        let reached = reaches(net.node(node), "server");
        println!("r1 disconnected: {node} reaches server: {reached}");
        assert!(!reached);
    }
    net.node("r1").reconnect()?;
    assert!(reaches(net.node("alice"), "server"));
    Ok(())
}

#[netns_test(topology = "a -- b [mtu=1280]")]
fn a_datagram_too_large_for_the_mtu(net: &Net) -> netns_test::Result<()> {
    let a = net.node("a");
    // `-M do` sets "don't fragment": 1400 bytes of payload do not fit in 1280.
    let large = ping(a, "b", &["-M", "do", "-s", "1400"]);
    print!("{}", String::from_utf8_lossy(&large.stderr));
    assert!(!large.status.success());
    assert!(ping(a, "b", &["-M", "do", "-s", "1200"]).status.success());
    // Raise it at run time, and 1400 bytes pass.
    net.link("a", "b").set_mtu(1500)?;
    assert!(ping(a, "b", &["-M", "do", "-s", "1400"]).status.success());
    Ok(())
}

netns_test::main!();
