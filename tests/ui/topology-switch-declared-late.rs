use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- lan; switch lan")]
fn topology_switch_declared_late(_net: &Net) {}

fn main() {}
