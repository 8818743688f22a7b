use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=10.0.0.0/24, subnet=10.0.1.0/24]")]
fn topology_attribute_twice(_net: &Net) {}

fn main() {}
