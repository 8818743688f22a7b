use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b -- c [subnet=10.0.0.0/24]")]
fn topology_subnet_spans_segments(_net: &Net) {}

fn main() {}
