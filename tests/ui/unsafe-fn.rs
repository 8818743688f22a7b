use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
unsafe fn unsafe_fn(_net: &Net) {}

fn main() {}
