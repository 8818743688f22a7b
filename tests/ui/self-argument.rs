use netns_test::netns_test;

struct Fixture;

impl Fixture {
    #[netns_test(topology = "a -- b")]
    fn self_argument(&self) {}
}

fn main() {}
