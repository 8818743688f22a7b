use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b --")]
fn topology_dangling_link(_net: &Net) {}

fn main() {}
