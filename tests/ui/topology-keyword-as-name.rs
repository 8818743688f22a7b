use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- switch")]
fn topology_keyword_as_name(_net: &Net) {}

fn main() {}
