use netns_test::{Net, netns_test};

#[netns_test(topology = "café -- b")]
fn topology_non_ascii_name(_net: &Net) {}

fn main() {}
