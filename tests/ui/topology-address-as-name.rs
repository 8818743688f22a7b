use netns_test::{Net, netns_test};

#[netns_test(topology = "10.0.0.1 -- b")]
fn topology_address_as_name(_net: &Net) {}

fn main() {}
