use netns_test::{Net, netns_test};

#[netns_test(topology = "[ipv6=off]; a@fd00::7 -- b")]
fn topology_ipv6_off_with_ipv6_address(_net: &Net) {}

fn main() {}
