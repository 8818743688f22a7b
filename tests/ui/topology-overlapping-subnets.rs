use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=10.0.0.0/16]; c -- d [subnet=10.0.1.0/24]")]
fn topology_overlapping_subnets(_net: &Net) {}

fn main() {}
