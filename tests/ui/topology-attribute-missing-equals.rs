use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet 10.0.0.0/24]")]
fn topology_attribute_missing_equals(_net: &Net) {}

fn main() {}
