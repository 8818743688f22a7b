use netns_test::{Net, netns_test};

#[netns_test(topology = a -- b)]
fn non_string_topology(_net: &Net) {}

fn main() {}
