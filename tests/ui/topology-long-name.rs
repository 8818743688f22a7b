use netns_test::{Net, netns_test};

#[netns_test(topology = "client -- server-number-0001")]
fn topology_long_name(_net: &Net) {}

fn main() {}
