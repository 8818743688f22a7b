use netns_test::{Net, netns_test};

#[netns_test(topology = "client -- 2nd")]
fn topology_bad_name(_net: &Net) {}

fn main() {}
