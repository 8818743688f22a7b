use netns_test::{Net, netns_test};

#[netns_test(topology = "client -- gateway -- server", node = "sever")]
fn in_a_node(_net: &Net) {}

fn main() {}
