use netns_test::{Net, netns_test};

#[netns_test(topology = "")]
fn topology_empty(_net: &Net) {}

fn main() {}
