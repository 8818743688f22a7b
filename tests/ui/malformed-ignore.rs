use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
#[ignore(reason = "slow")]
fn malformed_ignore(_net: &Net) {}

fn main() {}
