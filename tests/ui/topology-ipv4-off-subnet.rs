use netns_test::{Net, netns_test};

#[netns_test(topology = "[ipv4=off]; a -- b [subnet=10.0.7.0/24]")]
fn topology_ipv4_off_subnet(_net: &Net) {}

fn main() {}
