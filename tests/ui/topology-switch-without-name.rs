use netns_test::{Net, netns_test};

#[netns_test(topology = "switch; a -- b")]
fn topology_switch_without_name(_net: &Net) {}

fn main() {}
