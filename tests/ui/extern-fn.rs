use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
extern "C" fn extern_fn(_net: &Net) {}

fn main() {}
