use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- {}")]
fn topology_empty_group(_net: &Net) {}

fn main() {}
