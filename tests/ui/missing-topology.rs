use netns_test::{Net, netns_test};

#[netns_test]
fn missing_topology(_net: &Net) {}

fn main() {}
