use netns_test::{Net, netns_test};

#[netns_test(topology = "switch host; {a b} -- host")]
fn topology_switch_host(_net: &Net) {}

fn main() {}
