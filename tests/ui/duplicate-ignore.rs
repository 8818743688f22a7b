use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
#[ignore]
#[ignore = "slow"]
fn duplicate_ignore(_net: &Net) {}

fn main() {}
