use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b [subnt=10.0.7.0/24]")]
fn topology_misspelled_attribute(_net: &Net) {}

fn main() {}
