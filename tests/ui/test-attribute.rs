use netns_test::netns_test;

#[netns_test(topology = "a -- b")]
#[test]
fn test_attribute(_net: &netns_test::Net) {}

fn main() {}
