use netns_test::{Net, netns_test};

#[netns_test(topology = "a } -- c")]
fn topology_unbalanced_brace(_net: &Net) {}

fn main() {}
