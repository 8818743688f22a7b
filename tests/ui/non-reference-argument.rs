use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
fn non_reference_argument(_net: Net) {}

fn main() {}
