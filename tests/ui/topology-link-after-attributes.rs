use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnet=10.0.0.0/24] -- c")]
fn topology_link_after_attributes(_net: &Net) {}

fn main() {}
