use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
#[should_panic(message = "boom")]
fn malformed_should_panic(_net: &Net) {}

fn main() {}
