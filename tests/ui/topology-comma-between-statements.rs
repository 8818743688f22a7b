use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b, c -- d")]
fn topology_comma_between_statements(_net: &Net) {}

fn main() {}
