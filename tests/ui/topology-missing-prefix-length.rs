use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=10.0.0.0]")]
fn topology_missing_prefix_length(_net: &Net) {}

fn main() {}
