use netns_test::{Net, netns_test};

#[netns_test(topology = "switch lan; switch lan; {a b} -- lan")]
fn topology_switch_declared_twice(_net: &Net) {}

fn main() {}
