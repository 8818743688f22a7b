//! A topology in a file: an office LAN behind a router (see `topologies/office.topo`).
//!
//! `topology_file` reads the same language from a path relative to the crate's `Cargo.toml`;
//! a mistake in the file is a compile error that names the file, line and column.

use netns_test::{Net, netns_test};

#[netns_test(topology_file = "topologies/office.topo")]
fn the_lan_reaches_the_server(net: &Net) {
    print!("{}", std::fs::read_to_string("/etc/hosts").unwrap());
    for pc in ["alice", "bob", "printer"] {
        for family in ["-4", "-6"] {
            let ok = net
                .node(pc)
                .command("ping")
                .args([family, "-c", "1", "-W", "2", "server"])
                .status()
                .unwrap()
                .success();
            println!(
                "{pc} -> server (ping {family}): {}",
                if ok { "reply" } else { "no reply" }
            );
            assert!(ok);
        }
    }
    assert_eq!(net.node("printer").ip().to_string(), "192.168.10.200");
    assert_eq!(net.node("server").ipv6().to_string(), "fd00:5e:12::1");
}

netns_test::main!();
