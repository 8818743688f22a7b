use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
fn generic_fn<T: Default>(_net: &Net) {}

fn main() {}
