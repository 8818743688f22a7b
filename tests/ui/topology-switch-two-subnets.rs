use netns_test::{Net, netns_test};

#[netns_test(topology = "switch lan; a -- lan [subnet=10.0.0.0/24]; b -- lan [subnet=10.0.1.0/24]")]
fn topology_switch_two_subnets(_net: &Net) {}

fn main() {}
