use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet]")]
fn topology_attribute_without_value(_net: &Net) {}

fn main() {}
