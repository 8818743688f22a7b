use netns_test::{Net, netns_test};

#[netns_test(topology = "bridge -- b")]
fn topology_reserved_name(_net: &Net) {}

fn main() {}
