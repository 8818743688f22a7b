use netns_test::{Net, netns_test};

#[netns_test(topology = "switch lan; a -- b")]
fn topology_switch_without_links(_net: &Net) {}

fn main() {}
