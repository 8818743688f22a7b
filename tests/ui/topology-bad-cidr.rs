use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=10.0.7.0/33]")]
fn topology_bad_cidr(_net: &Net) {}

fn main() {}
