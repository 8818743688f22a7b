use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [ipv6=off]")]
fn topology_ipv6_off_on_a_link(_net: &Net) {}

fn main() {}
