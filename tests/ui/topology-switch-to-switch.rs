use netns_test::{Net, netns_test};

#[netns_test(topology = "switch s t; s -- t; a -- s; b -- t")]
fn topology_switch_to_switch(_net: &Net) {}

fn main() {}
