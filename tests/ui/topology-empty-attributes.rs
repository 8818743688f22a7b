use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b []")]
fn topology_empty_attributes(_net: &Net) {}

fn main() {}
