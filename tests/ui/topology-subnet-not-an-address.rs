use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=lan]")]
fn topology_subnet_not_an_address(_net: &Net) {}

fn main() {}
