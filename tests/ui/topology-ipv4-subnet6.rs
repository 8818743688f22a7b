use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet6=10.0.0.0/24]")]
fn topology_ipv4_subnet6(_net: &Net) {}

fn main() {}
