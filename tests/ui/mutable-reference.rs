use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
fn mutable_reference(_net: &mut Net) {}

fn main() {}
