use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b; b -- a")]
fn topology_duplicate_link(_net: &Net) {}

fn main() {}
