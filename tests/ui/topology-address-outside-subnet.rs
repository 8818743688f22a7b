use netns_test::{Net, netns_test};

#[netns_test(topology = "client@10.0.200.7 -- gateway [subnet=10.0.100.0/24]")]
fn topology_address_outside_subnet(_net: &Net) {}

fn main() {}
