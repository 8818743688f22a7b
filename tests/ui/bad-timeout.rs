use netns_test::{Net, netns_test};

#[netns_test(topology = "a -- b", timeout = "10")]
fn no_unit(_net: &Net) {}

#[netns_test(topology = "a -- b", timeout = "1h")]
fn unknown_unit(_net: &Net) {}

#[netns_test(topology = "a -- b", timeout = 10)]
fn not_a_string(_net: &Net) {}

fn main() {}
