use netns_test::{Net, netns_test};

#[netns_test(topology = "{a a} -- b")]
fn topology_name_twice_in_group(_net: &Net) {}

fn main() {}
