use netns_test::{Net, netns_test};

#[netns_test(topology_file = "topologies/missing.topo")]
fn topology_missing_file(_net: &Net) {}

fn main() {}
