use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet6=fd00::1/64]")]
fn topology_bad_subnet6(_net: &Net) {}

fn main() {}
