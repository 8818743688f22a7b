use netns_test::{Net, netns_test};

#[netns_test(topology = "client server")]
fn topology_missing_link(_net: &Net) {}

fn main() {}
