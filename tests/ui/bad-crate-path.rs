use netns_test::{Net, netns_test};

#[netns_test(crate = "not a path!", topology = "a -- b")]
fn bad_crate_path(_net: &Net) {}

fn main() {}
