use netns_test::{Net, netns_test};

#[netns_test(topology = "a [subnet=10.0.0.0/24]")]
fn topology_attributes_without_link(_net: &Net) {}

fn main() {}
