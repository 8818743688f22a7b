use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [wobble=5ms]")]
fn topology_unknown_attribute(_net: &Net) {}

fn main() {}
