use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
const fn const_fn(_net: &Net) {}

fn main() {}
