use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b", retries = 3)]
fn unknown_key(_net: &Net) {}

fn main() {}
