use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b")]
async fn async_fn(_net: &Net) {}

fn main() {}
