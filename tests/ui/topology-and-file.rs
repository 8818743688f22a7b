use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b", topology_file = "topologies/ab.topo")]
fn topology_and_file(_net: &Net) {}

fn main() {}
