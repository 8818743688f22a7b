use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [mtu=1400]")]
fn topology_unknown_attribute(_net: &Net) {}

fn main() {}
