use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
fn two_arguments(_net: &Net, _other: &Net) {}

fn main() {}
