use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=10.0.300.0/24]")]
fn topology_bad_address(_net: &Net) {}

fn main() {}
