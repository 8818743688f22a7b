use netns_test::{Net, netns_test};

#[netns_test(topology = "switch lan -- a")]
fn topology_switch_statement_links(_net: &Net) {}

fn main() {}
