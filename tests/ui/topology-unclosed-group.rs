use netns_test::{Net, netns_test};

#[netns_test(topology = "{a b -- c")]
fn topology_unclosed_group(_net: &Net) {}

fn main() {}
