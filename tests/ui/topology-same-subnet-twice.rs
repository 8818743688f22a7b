use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=10.0.0.0/24]; c -- d [subnet=10.0.0.0/24]")]
fn topology_same_subnet_twice(_net: &Net) {}

fn main() {}
