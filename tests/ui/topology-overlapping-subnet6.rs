use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet6=fd00::/48]; c -- d [subnet6=fd00:0:0:1::/64]")]
fn topology_overlapping_subnet6(_net: &Net) {}

fn main() {}
