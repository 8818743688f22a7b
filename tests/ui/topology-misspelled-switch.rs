use netns_test::{Net, netns_test};

#[netns_test(topology = "swich lan; a -- lan")]
fn topology_misspelled_switch(_net: &Net) {}

fn main() {}
