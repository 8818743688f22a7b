use netns_test::{Net, netns_test};

#[netns_test(topology = "router r1; host r1; a -- r1")]
fn topology_router_and_host(_net: &Net) {}

fn main() {}
