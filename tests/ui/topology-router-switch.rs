use netns_test::{Net, netns_test};

#[netns_test(topology = "switch lan; router lan; a -- lan")]
fn topology_router_switch(_net: &Net) {}

fn main() {}
