use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b@10.0.1.5 -- c")]
fn topology_address_in_the_middle(_net: &Net) {}

fn main() {}
