use netns_test::{Net, netns_test};

#[netns_test(topology = "switch lan; {a b c} -- lan [subnet=10.0.0.0/30]")]
fn topology_subnet_too_small(_net: &Net) {}

fn main() {}
