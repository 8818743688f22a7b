use netns_test::{Net, netns_test};

// A subnet written with an address inside it rather than the network's first address.
#[netns_test(topology = "a -- b [subnet=10.0.0.5/24]")]
fn topology_subnet_host_bits(_net: &Net) {}

fn main() {}
