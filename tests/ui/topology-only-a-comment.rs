use netns_test::{Net, netns_test};

#[netns_test(topology = "# nothing here yet")]
fn topology_only_a_comment(_net: &Net) {}

fn main() {}
