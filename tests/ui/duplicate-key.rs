use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b", topology = "c -- d")]
fn duplicate_key(_net: &Net) {}

fn main() {}
