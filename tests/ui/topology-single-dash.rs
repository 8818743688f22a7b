use netns_test::{Net, netns_test};

#[netns_test(topology = "a - b")]
fn topology_single_dash(_net: &Net) {}

fn main() {}
