use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- a")]
fn topology_self_link(_net: &Net) {}

fn main() {}
