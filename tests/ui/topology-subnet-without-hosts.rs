use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=10.0.0.0/31]")]
fn topology_subnet_without_hosts(_net: &Net) {}

fn main() {}
