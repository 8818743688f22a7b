use netns_test::{Net, netns_test};

#[netns_test(topology = "a@10.0.100.7 -- b@10.0.100.7")]
fn topology_address_twice(_net: &Net) {}

fn main() {}
