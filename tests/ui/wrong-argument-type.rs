use netns_test::netns_test;

#[netns_test(topology = "a -- b")]
fn wrong_argument_type(_net: &String) {}

fn main() {}
