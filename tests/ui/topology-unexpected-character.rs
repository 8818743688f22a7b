use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b!")]
fn topology_unexpected_character(_net: &Net) {}

fn main() {}
